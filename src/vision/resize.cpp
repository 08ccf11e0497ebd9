#include "vision/resize.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "common/target_clones.h"
#include "pt2onnx/error.h"

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
  constexpr double kA = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((kA + 2.0) * x - (kA + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * kA;
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
    // NOLINTNEXTLINE(bugprone-incorrect-roundings): PIL's own rounding
    int xmin = static_cast<int>(center - support + 0.5);
    xmin = std::max(xmin, 0);
    // NOLINTNEXTLINE(bugprone-incorrect-roundings): PIL's own rounding
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
      // Round half away from zero into 22-bit fixed point, as PIL writes it.
      // NOLINTBEGIN(bugprone-incorrect-roundings)
      out[x] = w < 0 ? static_cast<std::int32_t>(-0.5 + w * (1 << kPrecisionBits))
                     : static_cast<std::int32_t>(0.5 + w * (1 << kPrecisionBits));
      // NOLINTEND(bugprone-incorrect-roundings)
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

// The horizontal pass, 16 rows at a time. The block's samples are first
// transposed, so that one 16-byte column holds the same sample of all 16
// rows; an output sample is then the sum over its taps of weight x column in
// 16 int32 lanes, one lane per row, with no sums across lanes, and the
// results are transposed back into rows. The products and sums are the same
// integers as PIL's, so the result is bit for bit PIL's.
using Column = std::uint8_t __attribute__((vector_size(16)));
using Lanes = std::int32_t __attribute__((vector_size(64)));
constexpr int kBlock = 16;  // rows per block: the lanes of a Column

// Two vectors' bytes picked by constant indices (0-15 from a, 16-31 from b):
// GCC's and clang's builtins differ (clang builds the fuzzers).
#if defined(__clang__)
#define PT2ONNX_INTERLEAVE(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define PT2ONNX_INTERLEAVE(a, b, ...) __builtin_shuffle(a, b, Column{__VA_ARGS__})
#endif

// In place: r[i][j] becomes r[j][i]. Four rounds of interleaving rows i and
// i + 8 (punpcklbw / punpckhbw).
[[gnu::always_inline]] inline void transpose_tile(Column (&r)[kBlock]) {
  for (int round = 0; round < 4; ++round) {
    Column t[kBlock];
    for (std::size_t i = 0; i < std::size_t{kBlock} / 2; ++i) {
      t[2 * i] = PT2ONNX_INTERLEAVE(r[i], r[i + 8], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      t[2 * i + 1] = PT2ONNX_INTERLEAVE(r[i], r[i + 8], 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    }
    for (std::size_t i = 0; i < std::size_t{kBlock}; ++i) r[i] = t[i];
  }
}

// Vector arguments go by reference: these are inlined into each clone, and a
// by-value 64-byte vector would have a different ABI in each.

// sum += the 16 bytes at q, widened to int32 lanes (vpmovzxbd), times w.
[[gnu::always_inline]] inline void add_weighted(Lanes& sum, const std::uint8_t* q, std::int32_t w) {
  Lanes v;
  for (int i = 0; i < kBlock; ++i) v[i] = q[i];
  sum += v * w;
}

// clip8 on every lane, each written to its byte of `out` (vpmovdb).
[[gnu::always_inline]] inline void store_clipped(const Lanes& sum, std::uint8_t* out) {
  Lanes v = sum >> kPrecisionBits;
  v = v < 0 ? 0 : v;
  v = v > 255 ? 255 : v;
  for (int i = 0; i < kBlock; ++i) out[i] = static_cast<std::uint8_t>(v[i]);
}

struct BlockScratch {
  std::vector<Column> columns;  // the input samples, padded to whole tiles
  std::vector<Column> results;  // the output samples, padded to whole tiles
};

template <int Channels>
[[gnu::always_inline]] inline void horizontal_block(const std::uint8_t* const (&src)[kBlock], int rows,
                                                    std::uint8_t* const (&dst)[kBlock], int in_samples, int out_width,
                                                    const Coefficients& c, BlockScratch& scratch) {
  Column* columns = scratch.columns.data();
  for (int k0 = 0; k0 < in_samples; k0 += kBlock) {
    const int n = std::min(kBlock, in_samples - k0);
    Column r[kBlock];
    for (int j = 0; j < kBlock; ++j) {
      if (n == kBlock) {
        std::memcpy(&r[j], src[j] + k0, sizeof(Column));
      } else {
        r[j] = Column{};
        std::memcpy(&r[j], src[j] + k0, static_cast<std::size_t>(n));
      }
    }
    transpose_tile(r);
    for (int j = 0; j < kBlock; ++j) columns[k0 + j] = r[j];
  }

  Column* results = scratch.results.data();
  for (int xx = 0; xx < out_width; ++xx) {
    const std::int32_t* k = c.weights.data() + static_cast<std::size_t>(xx) * static_cast<std::size_t>(c.ksize);
    const int first = c.first[static_cast<std::size_t>(xx)] * Channels;
    const int taps = c.count[static_cast<std::size_t>(xx)];
    for (int ch = 0; ch < Channels; ++ch) {
      Lanes acc = Lanes{} + kHalf;
      for (int t = 0; t < taps; ++t) {
        add_weighted(acc, reinterpret_cast<const std::uint8_t*>(&columns[first + t * Channels + ch]), k[t]);
      }
      store_clipped(acc, reinterpret_cast<std::uint8_t*>(&results[xx * Channels + ch]));
    }
  }

  const int out_samples = out_width * Channels;
  for (int k0 = 0; k0 < out_samples; k0 += kBlock) {
    const int n = std::min(kBlock, out_samples - k0);
    Column r[kBlock];
    for (int j = 0; j < kBlock; ++j) r[j] = results[k0 + j];
    transpose_tile(r);
    for (int j = 0; j < rows; ++j) std::memcpy(dst[j] + k0, &r[j], static_cast<std::size_t>(n));
  }
}

template <int Channels>
[[gnu::always_inline]] inline void horizontal_blocks(const Image& in, Image& out, int row_begin, int row_end,
                                                     const Coefficients& c) {
  const int in_samples = in.width * Channels;
  const int out_samples = out.width * Channels;
  const auto tiles = [](int samples) {
    return static_cast<std::size_t>((samples + kBlock - 1) / kBlock) * static_cast<std::size_t>(kBlock);
  };
  BlockScratch scratch{std::vector<Column>(tiles(in_samples)), std::vector<Column>(tiles(out_samples))};
  for (int y0 = row_begin; y0 < row_end; y0 += kBlock) {
    const int rows = std::min(kBlock, row_end - y0);
    const std::uint8_t* src[kBlock];
    std::uint8_t* dst[kBlock];
    for (int j = 0; j < kBlock; ++j) {
      // A last, short block reads its last row again in the lanes it lacks.
      src[j] = in.row(y0 + std::min(j, rows - 1));
      dst[j] = j < rows ? out.row(y0 + j - row_begin) : nullptr;
    }
    horizontal_block<Channels>(src, rows, dst, in_samples, out.width, c, scratch);
  }
}

PT2ONNX_TARGET_CLONES
void horizontal_rows_rgb(const Image& in, Image& out, int row_begin, int row_end, const Coefficients& c) {
  horizontal_blocks<3>(in, out, row_begin, row_end, c);
}

PT2ONNX_TARGET_CLONES
void horizontal_rows_gray(const Image& in, Image& out, int row_begin, int row_end, const Coefficients& c) {
  horizontal_blocks<1>(in, out, row_begin, row_end, c);
}

Image resample_horizontal(const Image& in, int out_width, int row_begin, int row_end, const Coefficients& c) {
  Image out = make_image_unset(out_width, row_end - row_begin, in.channels);
  if (in.channels == 1) {
    horizontal_rows_gray(in, out, row_begin, row_end, c);
  } else {
    horizontal_rows_rgb(in, out, row_begin, row_end, c);
  }
  return out;
}

// Resampled along y; `row_offset` is the input row that in.row(0) stands for.
// 16 samples of an output row at a time, summed over its input rows in int32
// lanes (exact integers, so PIL's result); the row's last few samples, if
// any, one at a time.
PT2ONNX_TARGET_CLONES
Image resample_vertical(const Image& in, int out_height, int row_offset, const Coefficients& c) {
  Image out = make_image_unset(in.width, out_height, in.channels);
  const std::size_t row_len = in.row_bytes();
  const std::size_t whole = row_len / kBlock * kBlock;
  for (int yy = 0; yy < out_height; ++yy) {
    const std::int32_t* k = c.weights.data() + static_cast<std::size_t>(yy) * static_cast<std::size_t>(c.ksize);
    const int ymin = c.first[static_cast<std::size_t>(yy)] - row_offset;
    const int n = c.count[static_cast<std::size_t>(yy)];
    std::uint8_t* dst = out.row(yy);
    for (std::size_t x0 = 0; x0 < whole; x0 += kBlock) {
      Lanes acc = Lanes{} + kHalf;
      for (int y = 0; y < n; ++y) add_weighted(acc, in.row(ymin + y) + x0, k[y]);
      store_clipped(acc, dst + x0);
    }
    for (std::size_t x = whole; x < row_len; ++x) {
      std::int32_t sum = kHalf;
      for (int y = 0; y < n; ++y) sum += static_cast<std::int32_t>(in.row(ymin + y)[x]) * k[y];
      dst[x] = clip8(sum);
    }
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
