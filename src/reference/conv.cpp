// Convolution and Linear: direct loops accumulated in double, so that the
// reference's own rounding stays far below any tolerance it is used to judge.
// A convolution's work items are blocks of output channels of one image. The
// innermost loops run along output positions, which the compiler turns into
// vector code for the instruction sets PT2ONNX_TARGET_CLONES names; each
// position's sum still runs over the input channels and kernel taps in order.
#include <algorithm>
#include <cstring>
#include <vector>

#include "reference/checks.h"
#include "reference/ops.h"
#include "reference/parallel.h"

namespace pt2onnx::reference {
namespace {

// One input plane, zero-padded to every position the kernel reads and
// converted to double once, dealt out by the strides: padded position (r, c)
// goes to phase (r % stride_y, c % stride_x), row r / stride_y, column
// c / stride_x. Within a phase, output position (oy, ox) and kernel tap
// (ky, kx) then read row oy + a tap-only offset and likewise for columns, so
// each tap is one multiply-add over the output plane laid out with the
// phase's row length (the columns past out_w are computed and dropped).
class PaddedPlane {
 public:
  PaddedPlane(const nn::Conv2dAttrs& a, std::int64_t out_h, std::int64_t out_w)
      : a_(a),
        out_h_(out_h),
        rows_((out_h - 1 + ((a.kernel[0] - 1) * a.dilation[0]) / a.stride[0]) + 1),
        cols_((out_w - 1 + ((a.kernel[1] - 1) * a.dilation[1]) / a.stride[1]) + 1),
        // Slack after the last phase for the dropped columns of the last row.
        data_(static_cast<std::size_t>(a.stride[0] * a.stride[1] * rows_ * cols_ + cols_)) {}

  // The phase row length: the output row stride of accumulate().
  [[nodiscard]] std::int64_t row_length() const { return cols_; }

  void fill(const float* plane, std::int64_t height, std::int64_t width) {
    std::fill(data_.begin(), data_.end(), 0.0);
    const std::int64_t sy = a_.stride[0], sx = a_.stride[1];
    for (std::int64_t py = 0; py < sy; ++py) {
      for (std::int64_t px = 0; px < sx; ++px) {
        // Column j of this phase is input column j * sx + first_x; keep those in [0, width).
        const std::int64_t first_x = px - a_.padding[1];
        const std::int64_t j_lo = first_x >= 0 ? 0 : (-first_x + sx - 1) / sx;
        const std::int64_t j_hi = first_x > width - 1 ? 0 : std::min(cols_, (width - 1 - first_x) / sx + 1);
        double* phase = data_.data() + (py * sx + px) * rows_ * cols_;
        for (std::int64_t i = 0; i < rows_; ++i) {
          const std::int64_t y = i * sy + py - a_.padding[0];
          if (y < 0 || y >= height) continue;
          const float* row = plane + y * width;
          for (std::int64_t j = j_lo; j < j_hi; ++j) phase[i * cols_ + j] = static_cast<double>(row[j * sx + first_x]);
        }
      }
    }
  }

  // acc[oy * row_length() + ox] += sum over the taps of w[ky][kx] * input under the tap.
  void accumulate(const float* w, double* acc) const {
    const std::int64_t sy = a_.stride[0], sx = a_.stride[1];
    for (std::int64_t ky = 0; ky < a_.kernel[0]; ++ky) {
      const std::int64_t dy = ky * a_.dilation[0];
      for (std::int64_t kx = 0; kx < a_.kernel[1]; ++kx) {
        const std::int64_t dx = kx * a_.dilation[1];
        const double* src = data_.data() + ((dy % sy) * sx + dx % sx) * rows_ * cols_ + (dy / sy) * cols_ + dx / sx;
        multiply_add(acc, src, w[ky * a_.kernel[1] + kx], out_h_ * cols_);
      }
    }
  }

 private:
  PT2ONNX_TARGET_CLONES
  static void multiply_add(double* acc, const double* src, double w, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) acc[i] += w * src[i];
  }

  const nn::Conv2dAttrs& a_;
  std::int64_t out_h_, rows_, cols_;
  std::vector<double> data_;
};

// The 1x1 case, which is a matrix product: out[oc][p] = sum over ic of
// w[oc][ic] * x[ic][p]. A block of `rows` output channels times `lanes`
// positions is summed in vector variables (GCC's vector extension: each
// operation acts on every lane) over all input channels, so that the sums
// stay in registers; `w` holds the block's weights transposed to
// [in_channels][rows], `x` the first position of the first input plane.
// acc ([rows][lanes]) starts as the bias and receives the sums.
//
// The block must fit the register file, or every multiply-add goes through
// memory (ten times slower): 16 of AVX-512's 32 registers, 8 of AVX2's 16.
// So each instruction set has its own block, chosen once at run time; the
// body is one template, inlined into a function compiled for each.
using PointwiseFn = void (*)(const float* x, std::int64_t in_plane, std::int64_t in_channels, const double* w,
                             double* acc);

template <std::int64_t Rows, std::int64_t Vectors, typename Doubles, typename Floats>
[[gnu::always_inline]] inline void pointwise_body(const float* x, std::int64_t in_plane, std::int64_t in_channels,
                                                  const double* w, double* acc) {
  constexpr std::int64_t kPerVector = sizeof(Doubles) / sizeof(double);
  static_assert(sizeof(Floats) / sizeof(float) == kPerVector);
  Doubles sum[Rows][Vectors];
  std::memcpy(sum, acc, sizeof sum);
  for (std::int64_t ic = 0; ic < in_channels; ++ic) {
    Doubles xv[Vectors];
    for (std::int64_t v = 0; v < Vectors; ++v) {
      Floats f;
      std::memcpy(&f, x + ic * in_plane + v * kPerVector, sizeof f);
      xv[v] = __builtin_convertvector(f, Doubles);
    }
    for (std::int64_t j = 0; j < Rows; ++j) {
      const double wj = w[ic * Rows + j];
      for (std::int64_t v = 0; v < Vectors; ++v) sum[j][v] += wj * xv[v];
    }
  }
  std::memcpy(acc, sum, sizeof sum);
}

using Doubles8 = double __attribute__((vector_size(64)));
using Floats8 = float __attribute__((vector_size(32)));
using Doubles4 = double __attribute__((vector_size(32)));
using Floats4 = float __attribute__((vector_size(16)));
using Doubles2 = double __attribute__((vector_size(16)));
using Floats2 = float __attribute__((vector_size(8)));

[[gnu::target("avx512f")]] void pointwise_avx512(const float* x, std::int64_t in_plane, std::int64_t in_channels,
                                                 const double* w, double* acc) {
  pointwise_body<8, 2, Doubles8, Floats8>(x, in_plane, in_channels, w, acc);
}

[[gnu::target("avx2,fma")]] void pointwise_avx2(const float* x, std::int64_t in_plane, std::int64_t in_channels,
                                                const double* w, double* acc) {
  pointwise_body<4, 2, Doubles4, Floats4>(x, in_plane, in_channels, w, acc);
}

void pointwise_baseline(const float* x, std::int64_t in_plane, std::int64_t in_channels, const double* w, double* acc) {
  pointwise_body<4, 2, Doubles2, Floats2>(x, in_plane, in_channels, w, acc);
}

struct PointwiseKernel {
  std::int64_t rows;
  std::int64_t lanes;
  PointwiseFn run;
};
constexpr std::int64_t kMaxBlock = std::int64_t{8} * 16;  // rows x lanes of the largest kernel

const PointwiseKernel& pointwise_kernel() {
  static const PointwiseKernel kKernel = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return PointwiseKernel{8, 16, pointwise_avx512};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return PointwiseKernel{4, 8, pointwise_avx2};
    return PointwiseKernel{4, 4, pointwise_baseline};
  }();
  return kKernel;
}

// One group's weights [out_per_group, in_per_group] (1x1 kernel) as blocks of
// `rows` output channels, each [in_per_group][rows]; missing rows are zero.
std::vector<double> transposed_blocks(const float* w, std::int64_t out_per_group, std::int64_t in_per_group,
                                      std::int64_t rows) {
  const std::int64_t blocks = (out_per_group + rows - 1) / rows;
  std::vector<double> t(static_cast<std::size_t>(blocks * in_per_group * rows), 0.0);
  for (std::int64_t oc = 0; oc < out_per_group; ++oc) {
    for (std::int64_t ic = 0; ic < in_per_group; ++ic) {
      t[static_cast<std::size_t>((oc / rows * in_per_group + ic) * rows + oc % rows)] = w[oc * in_per_group + ic];
    }
  }
  return t;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor* bias, const nn::Conv2dAttrs& a) {
  require_rank(x, 4, "input");
  const std::int64_t n_batch = x.dim(0), channels = x.dim(1), height = x.dim(2), width = x.dim(3);
  if (a.groups < 1 || a.in_channels % a.groups != 0 || a.out_channels % a.groups != 0) {
    throw Error(ErrorKind::BadInput, fmt::format("groups {} does not divide in_channels {} and out_channels {}",
                                                 a.groups, a.in_channels, a.out_channels));
  }
  if (channels != a.in_channels) {
    throw Error(ErrorKind::BadInput,
                fmt::format("input has {} channels, the convolution expects {}", channels, a.in_channels));
  }
  const std::int64_t out_ch = a.out_channels, kh = a.kernel[0], kw = a.kernel[1];
  const std::int64_t in_per_group = channels / a.groups, out_per_group = out_ch / a.groups;
  require_shape(weight, {out_ch, in_per_group, kh, kw}, "weight");
  if (bias != nullptr) require_shape(*bias, {out_ch}, "bias");
  const std::int64_t out_h = window_output_size(height, kh, a.stride[0], a.padding[0], a.dilation[0]);
  const std::int64_t out_w = window_output_size(width, kw, a.stride[1], a.padding[1], a.dilation[1]);

  Tensor out(DType::Float32, {n_batch, out_ch, out_h, out_w});
  const float* xp = x.f32().data();
  const float* wp = weight.f32().data();
  const float* bp = bias != nullptr ? bias->f32().data() : nullptr;
  float* op = out.f32().data();
  const std::int64_t in_plane = height * width, out_plane = out_h * out_w;
  const auto bias_of = [bp](std::int64_t oc) { return bp != nullptr ? static_cast<double>(bp[oc]) : 0.0; };
  // The first input plane that output channel oc of image n reads.
  const auto group_input = [&](std::int64_t n, std::int64_t oc) {
    return xp + (n * channels + oc / out_per_group * in_per_group) * in_plane;
  };

  if (out.numel() == 0) return out;

  const bool pointwise =
      kh == 1 && kw == 1 && a.stride[0] == 1 && a.stride[1] == 1 && a.padding[0] == 0 && a.padding[1] == 0;
  if (pointwise) {
    const auto& kernel = pointwise_kernel();
    const std::int64_t k_rows = kernel.rows, lanes = kernel.lanes;
    std::vector<std::vector<double>> group_weights;
    for (std::int64_t g = 0; g < a.groups; ++g) {
      group_weights.push_back(
          transposed_blocks(wp + g * out_per_group * in_per_group, out_per_group, in_per_group, k_rows));
    }
    // The last positions of each plane, fewer than `lanes`, copied zero-padded
    // to `lanes` per input channel, so that they too run as a full block.
    const std::int64_t full = out_plane / lanes * lanes, tail = out_plane - full;
    std::vector<float> tails(static_cast<std::size_t>(tail > 0 ? n_batch * channels * lanes : 0), 0.0f);
    for (std::int64_t plane = 0; tail > 0 && plane < n_batch * channels; ++plane) {
      std::copy_n(xp + plane * in_plane + full, tail, tails.begin() + plane * lanes);
    }
    // Items: (image, group, block of k_rows output channels); each sweeps its plane `lanes` positions at a time.
    const std::int64_t blocks = (out_per_group + k_rows - 1) / k_rows;
    parallel_for(n_batch * a.groups * blocks, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t item = begin; item < end; ++item) {
        const std::int64_t block = item % blocks, group = item / blocks % a.groups, n = item / blocks / a.groups;
        const std::int64_t oc0 = group * out_per_group + block * k_rows;
        const std::int64_t rows = std::min(k_rows, (group + 1) * out_per_group - oc0);
        const double* w = group_weights[static_cast<std::size_t>(group)].data() + block * in_per_group * k_rows;
        const float* xg = group_input(n, oc0);
        for (std::int64_t p0 = 0; p0 < out_plane; p0 += lanes) {
          const std::int64_t len = std::min(lanes, out_plane - p0);
          alignas(64) double acc[kMaxBlock];
          for (std::int64_t j = 0; j < k_rows; ++j)
            std::fill_n(acc + j * lanes, lanes, j < rows ? bias_of(oc0 + j) : 0.0);
          if (len == lanes) {
            kernel.run(xg + p0, in_plane, in_per_group, w, acc);
          } else {
            kernel.run(tails.data() + (xg - xp) / in_plane * lanes, lanes, in_per_group, w, acc);
          }
          for (std::int64_t j = 0; j < rows; ++j) {
            float* dst = op + (n * out_ch + oc0 + j) * out_plane + p0;
            for (std::int64_t t = 0; t < len; ++t) dst[t] = static_cast<float>(acc[j * lanes + t]);
          }
        }
      }
    });
    return out;
  }

  // Items: (image, group, chunk of the group's output channels); each input
  // plane is padded once per item and used for every channel of the chunk.
  const std::int64_t chunk = std::min<std::int64_t>(8, out_per_group);
  const std::int64_t chunks = (out_per_group + chunk - 1) / chunk;
  parallel_for(n_batch * a.groups * chunks, [&](std::int64_t begin, std::int64_t end) {
    PaddedPlane plane(a, out_h, out_w);
    const std::int64_t acc_plane = out_h * plane.row_length();
    std::vector<double> acc(static_cast<std::size_t>(chunk * acc_plane));
    for (std::int64_t item = begin; item < end; ++item) {
      const std::int64_t c = item % chunks, group = item / chunks % a.groups, n = item / chunks / a.groups;
      const std::int64_t oc0 = group * out_per_group + c * chunk;
      const std::int64_t count = std::min(chunk, (group + 1) * out_per_group - oc0);
      for (std::int64_t j = 0; j < count; ++j) {
        std::fill_n(acc.begin() + j * acc_plane, acc_plane, bias_of(oc0 + j));
      }
      const float* xg = group_input(n, oc0);
      for (std::int64_t ic = 0; ic < in_per_group; ++ic) {
        plane.fill(xg + ic * in_plane, height, width);
        for (std::int64_t j = 0; j < count; ++j) {
          plane.accumulate(wp + ((oc0 + j) * in_per_group + ic) * kh * kw, acc.data() + j * acc_plane);
        }
      }
      for (std::int64_t j = 0; j < count; ++j) {
        float* dst = op + (n * out_ch + oc0 + j) * out_plane;
        const double* sums = acc.data() + j * acc_plane;
        for (std::int64_t oy = 0; oy < out_h; ++oy) {
          for (std::int64_t ox = 0; ox < out_w; ++ox)
            dst[oy * out_w + ox] = static_cast<float>(sums[oy * plane.row_length() + ox]);
        }
      }
    }
  });
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor* bias) {
  require_rank(x, 2, "input");
  require_rank(weight, 2, "weight");
  const std::int64_t n_batch = x.dim(0), in = x.dim(1), out_features = weight.dim(0);
  if (weight.dim(1) != in) {
    throw Error(ErrorKind::BadInput, fmt::format("input has {} features, the weight {} expects {}", in,
                                                 shape_to_string(weight.shape()), weight.dim(1)));
  }
  if (bias != nullptr) require_shape(*bias, {out_features}, "bias");
  Tensor out(DType::Float32, {n_batch, out_features});
  const float* xp = x.f32().data();
  const float* wp = weight.f32().data();
  const float* bp = bias != nullptr ? bias->f32().data() : nullptr;
  float* op = out.f32().data();
  parallel_for(
      n_batch * out_features,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t item = begin; item < end; ++item) {
          const std::int64_t n = item / out_features, o = item % out_features;
          double acc = bp != nullptr ? static_cast<double>(bp[o]) : 0.0;
          const float* xr = xp + n * in;
          const float* wr = wp + o * in;
          for (std::int64_t i = 0; i < in; ++i) acc += static_cast<double>(xr[i]) * static_cast<double>(wr[i]);
          op[item] = static_cast<float>(acc);
        }
      },
      64);
  return out;
}

}  // namespace pt2onnx::reference
