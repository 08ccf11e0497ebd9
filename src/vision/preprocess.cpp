#include "vision/preprocess.h"

#include <cmath>

#include <fmt/format.h>

#include "pt2onnx/error.h"
#include "vision/crop.h"

namespace pt2onnx::vision {

Size2 resized_size(int width, int height, const ResizeSpec& resize) {
  if (resize.mode == ResizeSpec::Mode::Exact) return resize.size;
  const int shorter = std::min(width, height);
  const int longer = std::max(width, height);
  // Python: int(requested_new_short * long / short), a true division of exact
  // integers, correctly rounded in double, then truncated.
  const double scaled = static_cast<double>(std::int64_t{resize.shorter_side} * longer) / shorter;
  const int new_long = static_cast<int>(scaled);
  if (width <= height) return Size2{new_long, resize.shorter_side};
  return Size2{resize.shorter_side, new_long};
}

std::optional<Size2> fixed_output_size(const PreprocessSpec& spec) {
  if (spec.crop) return spec.crop;
  if (spec.resize.mode == ResizeSpec::Mode::Exact) return spec.resize.size;
  return std::nullopt;
}

Image resize_and_crop(const Image& image, const PreprocessSpec& spec) {
  const Size2 target = resized_size(image.width, image.height, spec.resize);
  if (target.width <= 0 || target.height <= 0) {
    throw_error(ErrorKind::BadInput, fmt::format("a {}x{} image resizes to an empty {}x{} image", image.width,
                                                 image.height, target.width, target.height));
  }
  Image resized = resize(image, target.width, target.height, spec.interpolation);
  if (!spec.crop) return resized;
  return center_crop(resized, spec.crop->width, spec.crop->height);
}

void preprocess_into(const Image& image, const PreprocessSpec& spec, Size2 expected, std::span<float> out) {
  const Image ready = resize_and_crop(image, spec);
  if (ready.width != expected.width || ready.height != expected.height) {
    throw_error(ErrorKind::BadInput,
                fmt::format("the {}x{} (width x height) image preprocesses to {}x{}, but the model takes {}x{}",
                            image.width, image.height, ready.width, ready.height, expected.width, expected.height));
  }
  const std::size_t plane = static_cast<std::size_t>(ready.width) * static_cast<std::size_t>(ready.height);
  if (out.size() != 3 * plane) {
    throw_error(ErrorKind::Internal,
                fmt::format("preprocess_into: {} floats for a 3x{}x{} tensor", out.size(), ready.height, ready.width));
  }
  // One table per channel: ToTensor's v / 255 then Normalize's (x - mean) / std,
  // both in float32 as torch computes them.
  float table[3][256];
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) {
      const float x = static_cast<float>(v) / 255.0f;
      table[c][v] = (x - spec.mean[static_cast<std::size_t>(c)]) / spec.std[static_cast<std::size_t>(c)];
    }
  }
  const std::uint8_t* px = ready.pixels.data();
  for (int c = 0; c < 3; ++c) {
    float* dst = out.data() + static_cast<std::size_t>(c) * plane;
    const float* t = table[c];
    if (ready.channels == 1) {
      for (std::size_t i = 0; i < plane; ++i) dst[i] = t[px[i]];
    } else {
      for (std::size_t i = 0; i < plane; ++i) dst[i] = t[px[3 * i + static_cast<std::size_t>(c)]];
    }
  }
}

void validate(const PreprocessSpec& spec) {
  const auto bad = [](const std::string& what) { throw_error(ErrorKind::Usage, "preprocessing: " + what); };
  if (spec.resize.mode == ResizeSpec::Mode::ShorterSide) {
    if (spec.resize.shorter_side <= 0 || spec.resize.shorter_side > 1 << 15) {
      bad(fmt::format("resize {} is not a size in 1..32768", spec.resize.shorter_side));
    }
  } else if (spec.resize.size.width <= 0 || spec.resize.size.height <= 0 || spec.resize.size.width > 1 << 15 ||
             spec.resize.size.height > 1 << 15) {
    bad(fmt::format("resize {}x{} is not a size in 1..32768", spec.resize.size.height, spec.resize.size.width));
  }
  // Over the decoders' pixel limit every image would be refused after its
  // decode; a shorter side of N gives at least N x N pixels.
  const std::int64_t max_pixels = ImageLimits{}.max_pixels;
  const std::int64_t least_pixels = spec.resize.mode == ResizeSpec::Mode::ShorterSide
                                        ? std::int64_t{spec.resize.shorter_side} * spec.resize.shorter_side
                                        : std::int64_t{spec.resize.size.width} * spec.resize.size.height;
  if (least_pixels > max_pixels) {
    bad(fmt::format("resize {} gives images of at least {} pixels, over the limit of {} pixels per image",
                    spec.resize.mode == ResizeSpec::Mode::ShorterSide
                        ? std::to_string(spec.resize.shorter_side)
                        : fmt::format("{}x{}", spec.resize.size.height, spec.resize.size.width),
                    least_pixels, max_pixels));
  }
  if (spec.crop &&
      (spec.crop->width <= 0 || spec.crop->height <= 0 || spec.crop->width > 1 << 15 || spec.crop->height > 1 << 15)) {
    bad(fmt::format("crop {}x{} is not a size in 1..32768", spec.crop->height, spec.crop->width));
  }
  for (std::size_t c = 0; c < 3; ++c) {
    if (!std::isfinite(spec.mean[c]) || !std::isfinite(spec.std[c]) || spec.std[c] == 0.0f) {
      bad(fmt::format("mean {} / std {} of channel {} is not usable", spec.mean[c], spec.std[c], c));
    }
  }
}

void require_output_size(const PreprocessSpec& spec, Size2 input) {
  const std::optional<Size2> produced = fixed_output_size(spec);
  if (!produced) {
    throw_error(ErrorKind::Usage, fmt::format("preprocessing '{}' gives images of varying size: a shorter-side "
                                              "--resize needs a --crop to the model's input size {}x{}",
                                              describe(spec), input.height, input.width));
  }
  if (!(*produced == input)) {
    throw_error(ErrorKind::Usage,
                fmt::format("preprocessing gives {}x{} images but the model's input size is {}x{} (set --resize or "
                            "--crop)",
                            produced->height, produced->width, input.height, input.width));
  }
}

std::string describe(const PreprocessSpec& spec) {
  std::string resize = spec.resize.mode == ResizeSpec::Mode::Exact
                           ? fmt::format("{}x{}", spec.resize.size.height, spec.resize.size.width)
                           : fmt::format("{} (shorter side)", spec.resize.shorter_side);
  std::string crop = spec.crop ? fmt::format("{}x{}", spec.crop->height, spec.crop->width) : "none";
  return fmt::format("resize {}, crop {}, {}, mean {},{},{}, std {},{},{}", resize, crop,
                     interpolation_name(spec.interpolation), spec.mean[0], spec.mean[1], spec.mean[2], spec.std[0],
                     spec.std[1], spec.std[2]);
}

}  // namespace pt2onnx::vision
