#include "vision/png_decoder.h"

#include <memory>

#include <fmt/format.h>
#include <spng.h>

#include "pt2onnx/error.h"

namespace pt2onnx::vision {
namespace {

// Ancillary chunks (text, ICC profiles) are read into memory by libspng even
// though we ignore them; cap what one file may make it hold.
constexpr std::size_t kMaxChunkBytes = std::size_t{64} << 20;
constexpr std::size_t kMaxChunkCacheBytes = std::size_t{64} << 20;

struct SpngFree {
  void operator()(spng_ctx* ctx) const { spng_ctx_free(ctx); }
};
using SpngContext = std::unique_ptr<spng_ctx, SpngFree>;

void check_spng(int rc, const char* what) {
  if (rc != 0) throw_error(ErrorKind::BadInput, fmt::format("cannot decode PNG: {}: {}", what, spng_strerror(rc)));
}

// How libspng is asked to write the pixels, and how we turn them into ours.
enum class Layout {
  Gray8,       // SPNG_FMT_G8 (1, 2, 4 and 8-bit gray, scaled to 8 bits by libspng)
  GrayAlpha8,  // SPNG_FMT_RAW: gray, alpha bytes
  Rgb8,        // SPNG_FMT_RGB8 (8-bit RGB, RGBA and palettes of any depth)
  Raw16,       // SPNG_FMT_RAW: big-endian 16-bit samples, `samples` per pixel
};

struct Plan {
  Layout layout;
  int spng_format;
  int samples;   // per pixel in what libspng writes
  int channels;  // in our image
};

Plan plan_for(const spng_ihdr& ihdr) {
  const bool deep = ihdr.bit_depth == 16;
  switch (ihdr.color_type) {
    case SPNG_COLOR_TYPE_GRAYSCALE:
      return deep ? Plan{Layout::Raw16, SPNG_FMT_RAW, 1, 1} : Plan{Layout::Gray8, SPNG_FMT_G8, 1, 1};
    case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA:
      return deep ? Plan{Layout::Raw16, SPNG_FMT_RAW, 2, 1} : Plan{Layout::GrayAlpha8, SPNG_FMT_RAW, 2, 1};
    case SPNG_COLOR_TYPE_TRUECOLOR:
      return deep ? Plan{Layout::Raw16, SPNG_FMT_RAW, 3, 3} : Plan{Layout::Rgb8, SPNG_FMT_RGB8, 3, 3};
    case SPNG_COLOR_TYPE_TRUECOLOR_ALPHA:
      return deep ? Plan{Layout::Raw16, SPNG_FMT_RAW, 4, 3} : Plan{Layout::Rgb8, SPNG_FMT_RGB8, 3, 3};
    case SPNG_COLOR_TYPE_INDEXED:
      return Plan{Layout::Rgb8, SPNG_FMT_RGB8, 3, 3};
    default:
      throw_error(ErrorKind::BadInput, fmt::format("cannot decode PNG: unknown color type {}", ihdr.color_type));
  }
}

// 16-bit samples to ours. Gray (with or without alpha) follows PIL: plain
// 16-bit gray is clipped at 255 ("I" -> "RGB"), gray+alpha keeps the high byte
// ("LA;16B"). Colour keeps the high byte ("RGB;16B", "RGBA;16B").
void convert_raw16(const std::vector<std::uint8_t>& raw, const Plan& plan, bool clip_gray, Image& image) {
  const std::size_t pixels = static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height);
  const auto samples = static_cast<std::size_t>(plan.samples);
  const auto channels = static_cast<std::size_t>(plan.channels);
  for (std::size_t i = 0; i < pixels; ++i) {
    const std::uint8_t* p = raw.data() + 2 * samples * i;
    for (std::size_t c = 0; c < channels; ++c) {
      const std::uint8_t high = p[2 * c];
      const std::uint8_t low = p[2 * c + 1];
      std::uint8_t v = high;
      if (clip_gray) v = high != 0 ? std::uint8_t{255} : low;
      image.pixels[channels * i + c] = v;
    }
  }
}

}  // namespace

Image decode_png(std::span<const std::uint8_t> data, const ImageLimits& limits) {
  SpngContext ctx(spng_ctx_new(0));
  if (!ctx) throw std::bad_alloc();
  const auto side = static_cast<std::uint32_t>(limits.max_side);
  check_spng(spng_set_image_limits(ctx.get(), side, side), "setting size limits");
  check_spng(spng_set_chunk_limits(ctx.get(), kMaxChunkBytes, kMaxChunkCacheBytes), "setting chunk limits");
  check_spng(spng_set_png_buffer(ctx.get(), data.data(), data.size()), "reading the signature");

  spng_ihdr ihdr{};
  check_spng(spng_get_ihdr(ctx.get(), &ihdr), "reading the header");
  check_image_size(ihdr.width, ihdr.height, limits);
  const Plan plan = plan_for(ihdr);

  std::size_t decoded_bytes = 0;
  check_spng(spng_decoded_image_size(ctx.get(), plan.spng_format, &decoded_bytes), "sizing the image");
  const int bytes_per_sample = plan.layout == Layout::Raw16 ? 2 : 1;
  const std::size_t expected =
      static_cast<std::size_t>(ihdr.width) * ihdr.height * static_cast<std::size_t>(plan.samples * bytes_per_sample);
  if (decoded_bytes != expected) {
    throw_error(ErrorKind::BadInput, fmt::format("cannot decode PNG: libspng sizes a {}x{} image at {} bytes, "
                                                 "expected {}",
                                                 ihdr.width, ihdr.height, decoded_bytes, expected));
  }

  // Written in full below.
  Image image = make_image_unset(static_cast<int>(ihdr.width), static_cast<int>(ihdr.height), plan.channels);
  // No SPNG_DECODE_TRNS or SPNG_DECODE_GAMMA: PIL applies neither when it
  // converts to RGB.
  constexpr int kFlags = 0;
  if (plan.layout == Layout::Rgb8 || plan.layout == Layout::Gray8) {
    check_spng(spng_decode_image(ctx.get(), image.pixels.data(), image.pixels.size(), plan.spng_format, kFlags),
               "decoding the pixels");
    return image;
  }
  std::vector<std::uint8_t> decoded(decoded_bytes);
  check_spng(spng_decode_image(ctx.get(), decoded.data(), decoded.size(), plan.spng_format, kFlags),
             "decoding the pixels");
  if (plan.layout == Layout::GrayAlpha8) {
    for (std::size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = decoded[2 * i];
  } else {
    const bool clip_gray = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE;
    convert_raw16(decoded, plan, clip_gray, image);
  }
  return image;
}

}  // namespace pt2onnx::vision
