#include "vision/dicom_pixels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx::vision {
namespace {

// Reads sample i as the signed or unsigned stored value (step 1).
class SampleReader {
 public:
  explicit SampleReader(const DicomFrame& f)
      : data_(f.data.data()),
        wide_(f.bits_allocated == 16),
        mask_((std::uint32_t{1} << f.bits_stored) - 1),
        sign_bit_(f.is_signed ? std::uint32_t{1} << (f.bits_stored - 1) : 0) {}

  [[nodiscard]] std::int32_t operator()(std::size_t i) const {
    std::uint32_t raw = wide_ ? static_cast<std::uint32_t>(data_[2 * i] | (data_[2 * i + 1] << 8)) : data_[i];
    raw &= mask_;
    auto v = static_cast<std::int32_t>(raw);
    if ((raw & sign_bit_) != 0) v -= static_cast<std::int32_t>(sign_bit_ << 1);
    return v;
  }

 private:
  const std::uint8_t* data_;
  bool wide_;
  std::uint32_t mask_;
  std::uint32_t sign_bit_;
};

// Steps 3 and 4 for one modality value.
struct GrayMapper {
  VoiFunction function = VoiFunction::Linear;
  double lo = 0, hi = 0, center = 0, width = 1;

  [[nodiscard]] std::uint8_t operator()(double m) const {
    double t = 0;
    if (function == VoiFunction::Sigmoid) {
      t = 1.0 / (1.0 + std::exp(-4.0 * (m - center) / width));
    } else if (hi > lo) {
      t = std::clamp((m - lo) / (hi - lo), 0.0, 1.0);
    } else {
      t = m > lo ? 1.0 : 0.0;
    }
    return static_cast<std::uint8_t>(std::floor(t * 255.0 + 0.5));
  }
};

bool window_is_valid(const VoiWindow& w) {
  if (!std::isfinite(w.center) || !std::isfinite(w.width)) return false;
  return w.function == VoiFunction::Linear ? w.width >= 1.0 : w.width > 0.0;
}

void check_frame(const DicomFrame& f) {
  if (f.bits_allocated != 8 && f.bits_allocated != 16) {
    throw_error(ErrorKind::Unsupported,
                fmt::format("DICOM BitsAllocated {} (8 and 16 are supported)", f.bits_allocated));
  }
  if (f.bits_stored < 1 || f.bits_stored > f.bits_allocated) {
    throw_error(ErrorKind::BadInput,
                fmt::format("DICOM BitsStored {} does not fit BitsAllocated {}", f.bits_stored, f.bits_allocated));
  }
  if (f.samples_per_pixel != 1 && f.samples_per_pixel != 3) {
    throw_error(ErrorKind::Unsupported, fmt::format("DICOM SamplesPerPixel {}", f.samples_per_pixel));
  }
  const bool gray = f.photometric == Photometric::Monochrome1 || f.photometric == Photometric::Monochrome2;
  if (gray != (f.samples_per_pixel == 1)) {
    throw_error(ErrorKind::BadInput, fmt::format("DICOM SamplesPerPixel {} does not fit the photometric interpretation",
                                                 f.samples_per_pixel));
  }
  if (!gray && f.bits_allocated != 8) {
    throw_error(ErrorKind::Unsupported, "DICOM colour images with more than 8 bits per sample");
  }
  if (!std::isfinite(f.rescale_slope) || !std::isfinite(f.rescale_intercept)) {
    throw_error(ErrorKind::BadInput, "DICOM RescaleSlope or RescaleIntercept is not a finite number");
  }
  const std::size_t expected = static_cast<std::size_t>(f.width) * static_cast<std::size_t>(f.height) *
                               static_cast<std::size_t>(f.samples_per_pixel) *
                               static_cast<std::size_t>(f.bits_allocated / 8);
  if (f.width <= 0 || f.height <= 0 || f.data.size() < expected) {
    throw_error(ErrorKind::BadInput, fmt::format("DICOM frame {}x{} needs {} bytes of pixel data, {} present", f.width,
                                                 f.height, expected, f.data.size()));
  }
}

Image gray_to_image(const DicomFrame& f) {
  const SampleReader read(f);
  const std::size_t n = static_cast<std::size_t>(f.width) * static_cast<std::size_t>(f.height);
  std::int32_t xmin = std::numeric_limits<std::int32_t>::max();
  std::int32_t xmax = std::numeric_limits<std::int32_t>::min();
  for (std::size_t i = 0; i < n; ++i) {
    const std::int32_t x = read(i);
    xmin = std::min(xmin, x);
    xmax = std::max(xmax, x);
  }
  const auto modality = [&](std::int32_t x) { return static_cast<double>(x) * f.rescale_slope + f.rescale_intercept; };

  GrayMapper mapper;
  if (f.window && window_is_valid(*f.window)) {
    const double c = f.window->center;
    const double w = f.window->width;
    mapper.function = f.window->function;
    mapper.center = c;
    mapper.width = w;
    if (mapper.function == VoiFunction::LinearExact) {
      mapper.lo = c - w / 2;
      mapper.hi = c + w / 2;
    } else {
      mapper.lo = c - 0.5 - (w - 1) / 2;
      mapper.hi = c - 0.5 + (w - 1) / 2;
    }
  } else {
    // x * slope + intercept is monotonic in x under IEEE rounding, so the
    // extremes of m are the images of the extremes of x.
    const double a = modality(xmin);
    const double b = modality(xmax);
    mapper.lo = std::min(a, b);
    mapper.hi = std::max(a, b);
  }

  // At most 2^16 distinct stored values: map each once through a table.
  const bool invert = f.photometric == Photometric::Monochrome1;
  std::vector<std::uint8_t> table(static_cast<std::size_t>(xmax - xmin) + 1);
  for (std::int32_t x = xmin; x <= xmax; ++x) {
    const std::uint8_t v = mapper(modality(x));
    table[static_cast<std::size_t>(x - xmin)] = invert ? static_cast<std::uint8_t>(255 - v) : v;
  }
  Image image = make_image(f.width, f.height, 1);
  for (std::size_t i = 0; i < n; ++i) image.pixels[i] = table[static_cast<std::size_t>(read(i) - xmin)];
  return image;
}

// pydicom's YBR_FULL -> RGB: a float32 matrix product, +0.5, floor, clip.
// numpy may sum the products in another order, so a value can land one
// level apart; colour DICOMs are rare enough for that not to matter.
void ybr_full_to_rgb(std::uint8_t* p) {
  const float y = p[0];
  const float cb = static_cast<float>(p[1]) - 128.0f;
  const float cr = static_cast<float>(p[2]) - 128.0f;
  constexpr auto kGreenCb = static_cast<float>(-0.114 * 1.772 / 0.587);
  constexpr auto kGreenCr = static_cast<float>(-0.299 * 1.402 / 0.587);
  const float r = y + 1.402f * cr;
  const float g = y + kGreenCb * cb + kGreenCr * cr;
  const float b = y + 1.772f * cb;
  const auto to8 = [](float v) { return static_cast<std::uint8_t>(std::clamp(std::floor(v + 0.5f), 0.0f, 255.0f)); };
  p[0] = to8(r);
  p[1] = to8(g);
  p[2] = to8(b);
}

Image color_to_image(const DicomFrame& f) {
  Image image = make_image(f.width, f.height, 3);
  const std::size_t n = static_cast<std::size_t>(f.width) * static_cast<std::size_t>(f.height);
  const std::uint8_t* src = f.data.data();
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t c = 0; c < 3; ++c) image.pixels[3 * i + c] = f.planar ? src[c * n + i] : src[3 * i + c];
  }
  if (f.photometric == Photometric::YbrFull) {
    for (std::size_t i = 0; i < n; ++i) ybr_full_to_rgb(image.pixels.data() + 3 * i);
  }
  return image;
}

}  // namespace

Image dicom_frame_to_image(const DicomFrame& frame) {
  check_frame(frame);
  if (frame.samples_per_pixel == 1) return gray_to_image(frame);
  return color_to_image(frame);
}

}  // namespace pt2onnx::vision
