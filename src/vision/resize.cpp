#include "vision/resize.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "common/target_clones.h"

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

// One output pixel of the horizontal pass, summed tap by tap as PIL does.
template <int kChannels>
inline void horizontal_pixel(const std::uint8_t* src, std::uint8_t* dst, int xx, const Coefficients& c) {
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

// The horizontal pass in 16 int32 lanes. A pixel's taps are taken 16 samples
// at a time straight from the interleaved row: 16 / channels taps, each
// weight repeated once per channel, the lanes past the taps weighted zero.
// The products and sums are the same integers as PIL's, only added in
// another order, so the result is bit for bit PIL's.
using Lanes = std::int32_t __attribute__((vector_size(64)));
constexpr int kLanes = 16;

struct LaneWeights {
  int taps = 0;    // per group: kLanes / channels
  int groups = 0;  // per output pixel, enough for the widest
  std::vector<Lanes> weights;  // out_width * groups
  int vector_pixels = 0;       // output pixels [0, vector_pixels) can read 16 samples per group within the row
};

LaneWeights lane_weights(const Coefficients& c, int channels, int in_width) {
  LaneWeights lw;
  lw.taps = kLanes / channels;
  // ksize bounds the taps from above; the widest pixel often needs a group less.
  const int widest = c.count.empty() ? 1 : std::max(1, *std::max_element(c.count.begin(), c.count.end()));
  lw.groups = (widest + lw.taps - 1) / lw.taps;
  const std::size_t out_width = c.first.size();
  lw.weights.assign(out_width * static_cast<std::size_t>(lw.groups), Lanes{});
  const std::int64_t row_samples = std::int64_t{in_width} * channels;
  for (std::size_t xx = 0; xx < out_width; ++xx) {
    for (int x = 0; x < c.count[xx]; ++x) {
      Lanes& v = lw.weights[xx * static_cast<std::size_t>(lw.groups) + static_cast<std::size_t>(x / lw.taps)];
      for (int ch = 0; ch < channels; ++ch) {
        v[(x % lw.taps) * channels + ch] = c.weights[xx * static_cast<std::size_t>(c.ksize) + static_cast<std::size_t>(x)];
      }
    }
    // first[] never decreases, so the pixels whose last group stays inside
    // the row are a prefix.
    const std::int64_t last_sample = (std::int64_t{c.first[xx]} + std::int64_t{lw.groups - 1} * lw.taps) * channels;
    if (last_sample + kLanes <= row_samples) lw.vector_pixels = static_cast<int>(xx) + 1;
  }
  return lw;
}

template <int kChannels>
[[gnu::always_inline]] inline void horizontal_lanes(const Image& in, Image& out, int row_begin, int row_end,
                                                    const Coefficients& c, const LaneWeights& lw) {
  const int out_width = out.width;
  const int groups = lw.groups;
  const int group_samples = lw.taps * kChannels;
  for (int y = row_begin; y < row_end; ++y) {
    const std::uint8_t* src = in.row(y);
    std::uint8_t* dst = out.row(y - row_begin);
    for (int xx = 0; xx < lw.vector_pixels; ++xx) {
      const std::uint8_t* p = src + static_cast<std::ptrdiff_t>(c.first[static_cast<std::size_t>(xx)]) * kChannels;
      const Lanes* w = lw.weights.data() + static_cast<std::size_t>(xx) * static_cast<std::size_t>(groups);
      Lanes acc{};
      for (int g = 0; g < groups; ++g) {
        const std::uint8_t* q = p + g * group_samples;
        Lanes s;
        for (int i = 0; i < kLanes; ++i) s[i] = q[i];
        acc += s * w[g];
      }
      if constexpr (kChannels == 3) {
        // Lane l holds channel l % 3 of tap l / 3 (lane 15 is zero): lanes
        // 0-2 gather taps 0+1, then 0-3, then tap 4 from lanes 12-14.
        Lanes sum = acc + __builtin_shuffle(acc, Lanes{3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 15, 15, 15});
        sum += __builtin_shuffle(sum, Lanes{6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 15, 15, 15, 15, 15, 15});
        acc = sum + __builtin_shuffle(acc, Lanes{12, 13, 14, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15});
      } else {
        acc += __builtin_shuffle(acc, Lanes{8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0});
        acc += __builtin_shuffle(acc, Lanes{4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        acc += __builtin_shuffle(acc, Lanes{2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        acc += __builtin_shuffle(acc, Lanes{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
      }
      // clip8 on every lane at once.
      acc = (acc + kHalf) >> kPrecisionBits;
      acc = acc < 0 ? 0 : acc;
      acc = acc > 255 ? 255 : acc;
      for (int ch = 0; ch < kChannels; ++ch) dst[xx * kChannels + ch] = static_cast<std::uint8_t>(acc[ch]);
    }
    for (int xx = lw.vector_pixels; xx < out_width; ++xx) horizontal_pixel<kChannels>(src, dst, xx, c);
  }
}

PT2ONNX_TARGET_CLONES
void horizontal_rows_rgb(const Image& in, Image& out, int row_begin, int row_end, const Coefficients& c,
                         const LaneWeights& lw) {
  horizontal_lanes<3>(in, out, row_begin, row_end, c, lw);
}

PT2ONNX_TARGET_CLONES
void horizontal_rows_gray(const Image& in, Image& out, int row_begin, int row_end, const Coefficients& c,
                          const LaneWeights& lw) {
  horizontal_lanes<1>(in, out, row_begin, row_end, c, lw);
}

Image resample_horizontal(const Image& in, int out_width, int row_begin, int row_end, const Coefficients& c) {
  Image out = make_image(out_width, row_end - row_begin, in.channels);
  const LaneWeights lw = lane_weights(c, in.channels, in.width);
  if (in.channels == 1) {
    horizontal_rows_gray(in, out, row_begin, row_end, c, lw);
  } else {
    horizontal_rows_rgb(in, out, row_begin, row_end, c, lw);
  }
  return out;
}

// Resampled along y; `row_offset` is the input row that in.row(0) stands for.
PT2ONNX_TARGET_CLONES
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
