// Convolution and Linear: direct loops, one output plane (or row) per work item,
// accumulated in double so the reference's own rounding stays far below any
// tolerance it is used to judge.
#include <algorithm>
#include <utility>
#include <vector>

#include "reference/checks.h"
#include "reference/ops.h"
#include "reference/parallel.h"

namespace pt2onnx::reference {
namespace {

// [lo, hi) of output positions o whose input position o * stride + offset lies in [0, size).
std::pair<std::int64_t, std::int64_t> valid_outputs(std::int64_t offset, std::int64_t stride, std::int64_t size,
                                                    std::int64_t out_size) {
  const std::int64_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const std::int64_t last_in = size - 1 - offset;
  std::int64_t hi = last_in < 0 ? 0 : last_in / stride + 1;
  hi = std::min(hi, out_size);
  return {std::min(lo, hi), hi};
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
  const bool pointwise =
      kh == 1 && kw == 1 && a.stride[0] == 1 && a.stride[1] == 1 && a.padding[0] == 0 && a.padding[1] == 0;

  parallel_for(n_batch * out_ch, [&](std::int64_t begin, std::int64_t end) {
    std::vector<double> acc(static_cast<std::size_t>(out_plane));
    for (std::int64_t item = begin; item < end; ++item) {
      const std::int64_t n = item / out_ch, oc = item % out_ch, group = oc / out_per_group;
      std::fill(acc.begin(), acc.end(), bp != nullptr ? static_cast<double>(bp[oc]) : 0.0);
      for (std::int64_t ic = 0; ic < in_per_group; ++ic) {
        const float* plane = xp + (n * channels + group * in_per_group + ic) * in_plane;
        const float* wk = wp + (oc * in_per_group + ic) * kh * kw;
        if (pointwise) {  // 87% of EfficientNet's work: one contiguous multiply-add per input plane
          const double wv = wk[0];
          for (std::int64_t i = 0; i < out_plane; ++i) acc[i] += wv * static_cast<double>(plane[i]);
          continue;
        }
        for (std::int64_t ky = 0; ky < kh; ++ky) {
          const std::int64_t off_y = ky * a.dilation[0] - a.padding[0];
          const auto [oy_lo, oy_hi] = valid_outputs(off_y, a.stride[0], height, out_h);
          for (std::int64_t kx = 0; kx < kw; ++kx) {
            const std::int64_t off_x = kx * a.dilation[1] - a.padding[1];
            const auto [ox_lo, ox_hi] = valid_outputs(off_x, a.stride[1], width, out_w);
            const double wv = wk[ky * kw + kx];
            for (std::int64_t oy = oy_lo; oy < oy_hi; ++oy) {
              const float* row = plane + (oy * a.stride[0] + off_y) * width;
              double* acc_row = acc.data() + oy * out_w;
              if (a.stride[1] == 1) {
                for (std::int64_t ox = ox_lo; ox < ox_hi; ++ox)
                  acc_row[ox] += wv * static_cast<double>(row[ox + off_x]);
              } else {
                for (std::int64_t ox = ox_lo; ox < ox_hi; ++ox) {
                  acc_row[ox] += wv * static_cast<double>(row[ox * a.stride[1] + off_x]);
                }
              }
            }
          }
        }
      }
      float* dst = op + item * out_plane;
      for (std::int64_t i = 0; i < out_plane; ++i) dst[i] = static_cast<float>(acc[i]);
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
