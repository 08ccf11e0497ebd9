// The reference's channel operators: ShuffleNet's slicing and shuffling,
// ConvNeXt's per-pixel LayerNorm and Linear and its layer scale.
#include <cmath>
#include <cstring>

#include "reference/checks.h"
#include "reference/ops.h"
#include "reference/parallel.h"

namespace pt2onnx::reference {

Tensor pointwise_linear(const Tensor& x, const Tensor& weight, const Tensor* bias) {
  require_rank(x, 4, "input");
  require_rank(weight, 2, "weight");
  // A Linear on each pixel is a 1x1 convolution with the same weight.
  Tensor w(DType::Float32, {weight.dim(0), weight.dim(1), 1, 1});
  std::memcpy(w.f32().data(), weight.f32().data(), w.f32().size_bytes());
  nn::Conv2dAttrs a;
  a.in_channels = weight.dim(1);
  a.out_channels = weight.dim(0);
  a.bias = bias != nullptr;
  if (x.dim(1) != a.in_channels) {
    throw Error(ErrorKind::BadInput, fmt::format("input has {} channels, the weight {} expects {}", x.dim(1),
                                                 shape_to_string(weight.shape()), a.in_channels));
  }
  return conv2d(x, w, bias, a);
}

Tensor channel_slice(const Tensor& x, std::int64_t begin, std::int64_t end) {
  require_rank(x, 4, "input");
  if (begin < 0 || end > x.dim(1) || begin >= end) {
    throw Error(ErrorKind::BadInput, fmt::format("channels [{}, {}) of {}", begin, end, shape_to_string(x.shape())));
  }
  const std::int64_t plane = x.dim(2) * x.dim(3), taken = end - begin;
  Tensor out(DType::Float32, {x.dim(0), taken, x.dim(2), x.dim(3)});
  for (std::int64_t n = 0; n < x.dim(0); ++n) {
    std::memcpy(out.f32().data() + n * taken * plane, x.f32().data() + (n * x.dim(1) + begin) * plane,
                static_cast<std::size_t>(taken * plane) * sizeof(float));
  }
  return out;
}

Tensor channel_shuffle(const Tensor& x, std::int64_t groups) {
  require_rank(x, 4, "input");
  const std::int64_t channels = x.dim(1);
  if (groups < 1 || channels % groups != 0) {
    throw Error(ErrorKind::BadInput, fmt::format("{} channels do not split into {} groups", channels, groups));
  }
  const std::int64_t per_group = channels / groups, plane = x.dim(2) * x.dim(3);
  Tensor out(DType::Float32, x.shape());
  for (std::int64_t n = 0; n < x.dim(0); ++n) {
    for (std::int64_t i = 0; i < groups; ++i) {
      for (std::int64_t j = 0; j < per_group; ++j) {
        std::memcpy(out.f32().data() + (n * channels + j * groups + i) * plane,
                    x.f32().data() + (n * channels + i * per_group + j) * plane,
                    static_cast<std::size_t>(plane) * sizeof(float));
      }
    }
  }
  return out;
}

Tensor layer_norm_channels(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  require_rank(x, 4, "input");
  const std::int64_t channels = x.dim(1), plane = x.dim(2) * x.dim(3);
  require_shape(weight, {channels}, "weight");
  require_shape(bias, {channels}, "bias");
  Tensor out(DType::Float32, x.shape());
  const float* src = x.f32().data();
  float* dst = out.f32().data();
  const float* w = weight.f32().data();
  const float* b = bias.f32().data();
  parallel_for(x.dim(0) * plane, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t item = begin; item < end; ++item) {
      const std::int64_t n = item / plane, p = item % plane;
      const float* in = src + n * channels * plane + p;
      double sum = 0.0;
      for (std::int64_t c = 0; c < channels; ++c) sum += static_cast<double>(in[c * plane]);
      const double mean = sum / static_cast<double>(channels);
      double sq = 0.0;
      for (std::int64_t c = 0; c < channels; ++c) {
        const double d = static_cast<double>(in[c * plane]) - mean;
        sq += d * d;
      }
      const double inv = 1.0 / std::sqrt(sq / static_cast<double>(channels) + eps);
      float* o = dst + n * channels * plane + p;
      for (std::int64_t c = 0; c < channels; ++c) {
        o[c * plane] = static_cast<float>((static_cast<double>(in[c * plane]) - mean) * inv * w[c] + b[c]);
      }
    }
  });
  return out;
}

Tensor scale_channels(Tensor x, const Tensor& scale) {
  require_rank(x, 4, "input");
  const std::int64_t channels = x.dim(1), plane = x.dim(2) * x.dim(3);
  require_shape(scale, {channels, 1, 1}, "layer_scale");
  float* data = x.f32().data();
  const float* s = scale.f32().data();
  parallel_for(x.dim(0) * channels, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t nc = begin; nc < end; ++nc) {
      const double sv = s[nc % channels];
      float* p = data + nc * plane;
      for (std::int64_t i = 0; i < plane; ++i) p[i] = static_cast<float>(static_cast<double>(p[i]) * sv);
    }
  });
  return x;
}

}  // namespace pt2onnx::reference
