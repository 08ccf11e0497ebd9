// BatchNorm, activations, the squeeze-excitation scale, residual add, flatten.
// Each element is computed in double and rounded once to float32.
#include <cmath>

#include "reference/checks.h"
#include "reference/ops.h"

namespace pt2onnx::reference {
namespace {

double relu6(double v) { return std::min(std::max(v, 0.0), 6.0); }

template <typename Fn>
Tensor map(const Tensor& x, Fn&& fn) {
  Tensor out(DType::Float32, x.shape());
  const auto src = x.f32();
  auto dst = out.f32();
  for (std::size_t i = 0; i < src.size(); ++i) dst[i] = static_cast<float>(fn(static_cast<double>(src[i])));
  return out;
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, double eps) {
  require_rank(x, 4, "input");
  const std::int64_t n_batch = x.dim(0), channels = x.dim(1), plane = x.dim(2) * x.dim(3);
  for (const auto& [t, what] : {std::pair{&weight, "weight"}, std::pair{&bias, "bias"},
                                std::pair{&running_mean, "running_mean"}, std::pair{&running_var, "running_var"}}) {
    require_shape(*t, {channels}, what);
  }
  Tensor out(DType::Float32, x.shape());
  const auto src = x.f32();
  auto dst = out.f32();
  for (std::int64_t n = 0; n < n_batch; ++n) {
    for (std::int64_t c = 0; c < channels; ++c) {
      const double mean = running_mean.f32()[c];
      const double scale =
          static_cast<double>(weight.f32()[c]) / std::sqrt(static_cast<double>(running_var.f32()[c]) + eps);
      const double shift = bias.f32()[c];
      const std::int64_t base = (n * channels + c) * plane;
      for (std::int64_t i = base; i < base + plane; ++i) {
        dst[i] = static_cast<float>((static_cast<double>(src[i]) - mean) * scale + shift);
      }
    }
  }
  return out;
}

Tensor activation(nn::LayerKind kind, const Tensor& x) {
  require_f32(x, "input");
  switch (kind) {
    case nn::LayerKind::ReLU:
      return map(x, [](double v) { return v > 0.0 ? v : (std::isnan(v) ? v : 0.0); });
    case nn::LayerKind::Sigmoid:
      return map(x, [](double v) { return 1.0 / (1.0 + std::exp(-v)); });
    case nn::LayerKind::SiLU:
      return map(x, [](double v) { return v / (1.0 + std::exp(-v)); });
    case nn::LayerKind::Hardswish:
      return map(x, [](double v) { return v * relu6(v + 3.0) / 6.0; });
    case nn::LayerKind::Hardsigmoid:
      return map(x, [](double v) { return relu6(v + 3.0) / 6.0; });
    default:
      break;
  }
  throw Error(ErrorKind::Internal, fmt::format("{} is not an activation", nn::layer_kind_name(kind)));
}

Tensor mul_channels(const Tensor& x, const Tensor& scale) {
  require_rank(x, 4, "input");
  require_shape(scale, {x.dim(0), x.dim(1), 1, 1}, "scale");
  Tensor out(DType::Float32, x.shape());
  const auto src = x.f32();
  const auto s = scale.f32();
  auto dst = out.f32();
  const std::int64_t plane = x.dim(2) * x.dim(3);
  for (std::int64_t nc = 0; nc < x.dim(0) * x.dim(1); ++nc) {
    const double sv = s[nc];
    for (std::int64_t i = nc * plane; i < (nc + 1) * plane; ++i)
      dst[i] = static_cast<float>(static_cast<double>(src[i]) * sv);
  }
  return out;
}

Tensor add(const Tensor& a, const Tensor& b) {
  require_f32(a, "first operand");
  require_shape(b, a.shape(), "second operand");
  Tensor out(DType::Float32, a.shape());
  const auto pa = a.f32();
  const auto pb = b.f32();
  auto dst = out.f32();
  for (std::size_t i = 0; i < pa.size(); ++i)
    dst[i] = static_cast<float>(static_cast<double>(pa[i]) + static_cast<double>(pb[i]));
  return out;
}

Tensor flatten(const Tensor& x, std::int64_t start_dim) {
  require_f32(x, "input");
  if (start_dim < 0 || static_cast<std::size_t>(start_dim) >= std::max<std::size_t>(x.rank(), 1)) {
    throw Error(ErrorKind::BadInput,
                fmt::format("start_dim {} is out of range for shape {}", start_dim, shape_to_string(x.shape())));
  }
  Shape shape(x.shape().begin(), x.shape().begin() + start_dim);
  std::int64_t rest = 1;
  for (std::size_t i = static_cast<std::size_t>(start_dim); i < x.rank(); ++i) rest *= x.dim(i);
  shape.push_back(rest);
  return x.reshaped(shape);
}

}  // namespace pt2onnx::reference
