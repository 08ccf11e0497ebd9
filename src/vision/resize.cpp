#include "vision/resize.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"

namespace pt2onnx::vision {
namespace {

// PIL keeps 8 bits for the result and 2 for filters whose partial sums leave
// [0, 1] (bicubic's negative lobes); the rest is the coefficients' precision.
constexpr int kPrecisionBits = 32 - 8 - 2;

double bilinear_filter(double x) {
  if (x < 0.0) x = -x;
  if (x < 1.0) return 1.0 - x;
  return 0.0;
}

// Keys' cubic convolution with a = -0.5, as PIL.
double bicubic_filter(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// For each output pixel, the first input pixel used, how many, and their
// fixed-point weights (ksize slots per output pixel, zero past `count`).
struct Coefficients {
  int ksize = 0;
  std::vector<int> first;
  std::vector<int> count;
  std::vector<std::int32_t> weights;
};

Coefficients compute_coefficients(int in_size, int out_size, Interpolation interpolation) {
  const bool cubic = interpolation == Interpolation::Bicubic;
  const double filter_support = cubic ? 2.0 : 1.0;
  // PIL computes (double)(float(in) - float(0)) / out; exact for our sizes.
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = filter_support * filterscale;
  const int ksize = static_cast<int>(std::ceil(support)) * 2 + 1;

  Coefficients c;
  c.ksize = ksize;
  c.first.resize(static_cast<std::size_t>(out_size));
  c.count.resize(static_cast<std::size_t>(out_size));
  c.weights.assign(static_cast<std::size_t>(out_size) * static_cast<std::size_t>(ksize), 0);
  std::vector<double> k(static_cast<std::size_t>(ksize));
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    // Truncation towards zero, as PIL's (int) casts.
    int xmin = static_cast<int>(center - support + 0.5);
    xmin = std::max(xmin, 0);
    int xmax = static_cast<int>(center + support + 0.5);
    xmax = std::min(xmax, in_size);
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double arg = (x + xmin - center + 0.5) * ss;
      const double w = cubic ? bicubic_filter(arg) : bilinear_filter(arg);
      k[static_cast<std::size_t>(x)] = w;
      ww += w;
    }
    std::int32_t* out = c.weights.data() + static_cast<std::size_t>(xx) * static_cast<std::size_t>(ksize);
    for (int x = 0; x < xmax; ++x) {
      double w = k[static_cast<std::size_t>(x)];
      if (ww != 0.0) w /= ww;
      // Round half away from zero into 22-bit fixed point.
      out[x] = w < 0 ? static_cast<std::int32_t>(-0.5 + w * (1 << kPrecisionBits))
                     : static_cast<std::int32_t>(0.5 + w * (1 << kPrecisionBits));
    }
    c.first[static_cast<std::size_t>(xx)] = xmin;
    c.count[static_cast<std::size_t>(xx)] = xmax;
  }
  return c;
}

inline std::uint8_t clip8(std::int32_t v) {
  // Arithmetic shift, then saturate: PIL's lookup table does the same.
  const std::int32_t shifted = v >> kPrecisionBits;
  return static_cast<std::uint8_t>(std::clamp(shifted, 0, 255));
}

constexpr std::int32_t kHalf = std::int32_t{1} << (kPrecisionBits - 1);

// Rows [row_begin, row_end) of `in`, resampled along x. The channel count
// is a template argument so that all channels of a pixel are summed in one
// pass over the taps, as PIL does; this pass dominates the time of a resize.
template <int kChannels>
void horizontal_rows(const Image& in, Image& out, int row_begin, int row_end, const Coefficients& c) {
  const int out_width = out.width;
  for (int y = row_begin; y < row_end; ++y) {
    const std::uint8_t* src = in.row(y);
    std::uint8_t* dst = out.row(y - row_begin);
    for (int xx = 0; xx < out_width; ++xx) {
      const std::int32_t* k = c.weights.data() + static_cast<std::size_t>(xx) * static_cast<std::size_t>(c.ksize);
      const std::uint8_t* p = src + static_cast<std::ptrdiff_t>(c.first[static_cast<std::size_t>(xx)]) * kChannels;
      const int n = c.count[static_cast<std::size_t>(xx)];
      std::int32_t ss[kChannels];
      for (int ch = 0; ch < kChannels; ++ch) ss[ch] = kHalf;
      for (int x = 0; x < n; ++x) {
        const std::int32_t w = k[x];
        for (int ch = 0; ch < kChannels; ++ch) ss[ch] += static_cast<std::int32_t>(p[x * kChannels + ch]) * w;
      }
      for (int ch = 0; ch < kChannels; ++ch) dst[xx * kChannels + ch] = clip8(ss[ch]);
    }
  }
}

Image resample_horizontal(const Image& in, int out_width, int row_begin, int row_end, const Coefficients& c) {
  Image out = make_image(out_width, row_end - row_begin, in.channels);
  if (in.channels == 1) {
    horizontal_rows<1>(in, out, row_begin, row_end, c);
  } else {
    horizontal_rows<3>(in, out, row_begin, row_end, c);
  }
  return out;
}

// Resampled along y; `row_offset` is the input row that in.row(0) stands for.
Image resample_vertical(const Image& in, int out_height, int row_offset, const Coefficients& c) {
  Image out = make_image(in.width, out_height, in.channels);
  const std::size_t row_len = in.row_bytes();
  // Integer sums are exact, so accumulating a whole row per input row (cache
  // friendly) gives PIL's per-pixel result.
  std::vector<std::int32_t> acc(row_len);
  for (int yy = 0; yy < out_height; ++yy) {
    const std::int32_t* k = c.weights.data() + static_cast<std::size_t>(yy) * static_cast<std::size_t>(c.ksize);
    const int ymin = c.first[static_cast<std::size_t>(yy)] - row_offset;
    const int n = c.count[static_cast<std::size_t>(yy)];
    std::fill(acc.begin(), acc.end(), kHalf);
    for (int y = 0; y < n; ++y) {
      const std::uint8_t* src = in.row(ymin + y);
      const std::int32_t w = k[y];
      for (std::size_t i = 0; i < row_len; ++i) acc[i] += static_cast<std::int32_t>(src[i]) * w;
    }
    std::uint8_t* dst = out.row(yy);
    for (std::size_t i = 0; i < row_len; ++i) dst[i] = clip8(acc[i]);
  }
  return out;
}

Image resize_convolution(const Image& in, int out_width, int out_height, Interpolation interpolation) {
  const bool need_horizontal = out_width != in.width;
  const bool need_vertical = out_height != in.height;
  const Coefficients vertical = compute_coefficients(in.height, out_height, interpolation);
  // Only the input rows some output row reads get the horizontal pass.
  const int row_begin = vertical.first.front();
  const int row_end = vertical.first.back() + vertical.count.back();
  if (!need_horizontal) return resample_vertical(in, out_height, 0, vertical);
  const Coefficients horizontal = compute_coefficients(in.width, out_width, interpolation);
  Image temp = resample_horizontal(in, out_width, row_begin, row_end, horizontal);
  if (!need_vertical) return temp;
  return resample_vertical(temp, out_height, row_begin, vertical);
}

// PIL's ImagingScaleAffine: source position of output pixel x is
// floor(x0 + (x + 0.5) * step) with the position advanced by repeated addition.
std::vector<int> nearest_indices(int in_size, int out_size) {
  const double step = static_cast<double>(in_size) / out_size;
  std::vector<int> index(static_cast<std::size_t>(out_size), -1);
  double pos = step * 0.5;
  for (int x = 0; x < out_size; ++x) {
    const int i = pos < 0.0 ? -1 : static_cast<int>(pos);
    if (i >= 0 && i < in_size) index[static_cast<std::size_t>(x)] = i;
    pos += step;
  }
  return index;
}

Image resize_nearest(const Image& in, int out_width, int out_height) {
  const std::vector<int> xs = nearest_indices(in.width, out_width);
  const std::vector<int> ys = nearest_indices(in.height, out_height);
  Image out = make_image(out_width, out_height, in.channels);  // zero where PIL fills
  const int channels = in.channels;
  for (int y = 0; y < out_height; ++y) {
    const int sy = ys[static_cast<std::size_t>(y)];
    if (sy < 0) continue;
    const std::uint8_t* src = in.row(sy);
    std::uint8_t* dst = out.row(y);
    for (int x = 0; x < out_width; ++x) {
      const int sx = xs[static_cast<std::size_t>(x)];
      if (sx < 0) continue;
      for (int ch = 0; ch < channels; ++ch) dst[x * channels + ch] = src[sx * channels + ch];
    }
  }
  return out;
}

}  // namespace

std::string_view interpolation_name(Interpolation interpolation) {
  switch (interpolation) {
    case Interpolation::Nearest:
      return "nearest";
    case Interpolation::Bilinear:
      return "bilinear";
    case Interpolation::Bicubic:
      return "bicubic";
  }
  return "bilinear";
}

std::optional<Interpolation> interpolation_from_name(std::string_view name) {
  if (name == "nearest") return Interpolation::Nearest;
  if (name == "bilinear") return Interpolation::Bilinear;
  if (name == "bicubic") return Interpolation::Bicubic;
  return std::nullopt;
}

Image resize(const Image& input, int out_width, int out_height, Interpolation interpolation) {
  if (out_width <= 0 || out_height <= 0) {
    throw_error(ErrorKind::Internal, fmt::format("resize to {}x{}", out_width, out_height));
  }
  if (out_width == input.width && out_height == input.height) return input;
  if (interpolation == Interpolation::Nearest) return resize_nearest(input, out_width, out_height);
  return resize_convolution(input, out_width, out_height, interpolation);
}

}  // namespace pt2onnx::vision
