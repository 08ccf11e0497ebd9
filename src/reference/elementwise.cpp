// BatchNorm, activations, the squeeze-excitation scale, residual add, flatten.
// Each element is computed in double and rounded once to float32, in place
// in the operand the caller hands over, by independent chunks on all cores.
#include <cmath>
#include <limits>

#include "reference/checks.h"
#include "reference/exp.h"
#include "reference/ops.h"
#include "reference/parallel.h"

namespace pt2onnx::reference {
namespace {

double relu6(double v) { return std::min(std::max(v, 0.0), 6.0); }

// Elements per work item of the whole-tensor maps.
constexpr std::int64_t kChunk = 16384;

// Calls fn(begin, end) over [0, count) in chunks, on all cores.
template <typename Fn>
void for_chunks(std::int64_t count, Fn&& fn) {
  parallel_for((count + kChunk - 1) / kChunk,
               [&](std::int64_t begin, std::int64_t end) { fn(begin * kChunk, std::min(count, end * kChunk)); });
}

// e^-v for a float v, its argument limited to where exp_double is exact:
// beyond +-700 a logistic is 0 or 1 to far more than float precision. The
// infinities keep their exact e^-v (inf, 0), so that SiLU(-inf) is NaN
// (-inf / inf) as in PyTorch.
double exp_minus(float v) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const double e = exp_double(-static_cast<double>(std::min(std::max(v, -700.0f), 700.0f)));
  return v == -kInf ? static_cast<double>(kInf) : (v == kInf ? 0.0 : e);
}

// A result below float32's smallest normal number (2^-126) becomes a zero of
// its sign. Rounding such a double to a denormal float costs a microcode
// assist of about a hundred cycles on x86, and saturated logistics (SiLU of a
// large negative input, an SE gate near 0) make millions of them; the values
// differ by less than 1.2e-38.
double flush_denormal(double r) { return std::abs(r) < 0x1p-126 ? r * 0.0 : r; }

// The logistic activations over n elements, in vector code (see exp.h).
PT2ONNX_TARGET_CLONES
void sigmoid_in_place(float* data, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) data[i] = static_cast<float>(flush_denormal(1.0 / (1.0 + exp_minus(data[i]))));
}

PT2ONNX_TARGET_CLONES
void silu_in_place(float* data, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    data[i] = static_cast<float>(flush_denormal(static_cast<double>(data[i]) / (1.0 + exp_minus(data[i]))));
  }
}

PT2ONNX_TARGET_CLONES
void normalize_in_place(float* data, std::int64_t n, double mean, double scale, double shift) {
  for (std::int64_t i = 0; i < n; ++i)
    data[i] = static_cast<float>((static_cast<double>(data[i]) - mean) * scale + shift);
}

template <typename Kernel>
Tensor map_kernel(Tensor x, Kernel kernel) {
  float* data = x.f32().data();
  for_chunks(static_cast<std::int64_t>(x.numel()),
             [&](std::int64_t begin, std::int64_t end) { kernel(data + begin, end - begin); });
  return x;
}

template <typename Fn>
Tensor map(Tensor x, Fn&& fn) {
  auto data = x.f32();
  for_chunks(static_cast<std::int64_t>(data.size()), [&](std::int64_t begin, std::int64_t end) {
    for (auto i = static_cast<std::size_t>(begin); i < static_cast<std::size_t>(end); ++i) {
      data[i] = static_cast<float>(fn(static_cast<double>(data[i])));
    }
  });
  return x;
}

// Calls fn(plane index nc, plane data) for every [H, W] plane of an [N, C, H, W] tensor, on all cores.
template <typename Fn>
void for_planes(Tensor& x, Fn&& fn) {
  const std::int64_t plane = x.dim(2) * x.dim(3);
  float* data = x.f32().data();
  parallel_for(x.dim(0) * x.dim(1), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t nc = begin; nc < end; ++nc) fn(nc, data + nc * plane, plane);
  });
}

}  // namespace

Tensor batch_norm(Tensor x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, double eps, bool then_silu) {
  require_rank(x, 4, "input");
  const std::int64_t channels = x.dim(1);
  for (const auto& [t, what] : {std::pair{&weight, "weight"}, std::pair{&bias, "bias"},
                                std::pair{&running_mean, "running_mean"}, std::pair{&running_var, "running_var"}}) {
    require_shape(*t, {channels}, what);
  }
  for_planes(x, [&](std::int64_t nc, float* data, std::int64_t plane) {
    const std::int64_t c = nc % channels;
    const double mean = running_mean.f32()[c];
    const double scale =
        static_cast<double>(weight.f32()[c]) / std::sqrt(static_cast<double>(running_var.f32()[c]) + eps);
    const double shift = bias.f32()[c];
    normalize_in_place(data, plane, mean, scale, shift);
    if (then_silu) silu_in_place(data, plane);
  });
  return x;
}

Tensor activation(nn::LayerKind kind, Tensor x) {
  require_f32(x, "input");
  switch (kind) {
    case nn::LayerKind::ReLU:
      return map(std::move(x), [](double v) { return v > 0.0 ? v : (std::isnan(v) ? v : 0.0); });
    case nn::LayerKind::ReLU6:
      return map(std::move(x), [](double v) { return std::isnan(v) ? v : relu6(v); });
    case nn::LayerKind::Sigmoid:
      return map_kernel(std::move(x), sigmoid_in_place);
    case nn::LayerKind::SiLU:
      return map_kernel(std::move(x), silu_in_place);
    case nn::LayerKind::Hardswish:
      return map(std::move(x), [](double v) { return v * relu6(v + 3.0) / 6.0; });
    case nn::LayerKind::Hardsigmoid:
      return map(std::move(x), [](double v) { return relu6(v + 3.0) / 6.0; });
    case nn::LayerKind::GELU:  // torch's default, approximate='none'
      return map(std::move(x), [](double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); });
    case nn::LayerKind::Tanh:
      return map(std::move(x), [](double v) { return std::tanh(v); });
    default:
      break;
  }
  throw Error(ErrorKind::Internal, fmt::format("{} is not an activation", nn::layer_kind_name(kind)));
}

Tensor concat_channels(const std::vector<const Tensor*>& parts) {
  if (parts.empty()) throw Error(ErrorKind::Internal, "concatenation of no tensors");
  const Tensor& first = *parts[0];
  require_rank(first, 4, "input 0");
  std::int64_t channels = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const Tensor& t = *parts[i];
    require_f32(t, "input");
    if (t.rank() != 4 || t.dim(0) != first.dim(0) || t.dim(2) != first.dim(2) || t.dim(3) != first.dim(3)) {
      throw Error(ErrorKind::BadInput,
                  fmt::format("input {} is {}; concatenation along channels needs [{}, C, {}, {}]", i,
                              shape_to_string(t.shape()), first.dim(0), first.dim(2), first.dim(3)));
    }
    channels += t.dim(1);
  }
  const std::int64_t n = first.dim(0), plane = first.dim(2) * first.dim(3);
  Tensor out(DType::Float32, {n, channels, first.dim(2), first.dim(3)});
  float* dst = out.f32().data();
  for (std::int64_t b = 0; b < n; ++b) {
    for (const Tensor* t : parts) {
      const std::int64_t block = t->dim(1) * plane;
      const float* src = t->f32().data() + b * block;
      dst = std::copy(src, src + block, dst);
    }
  }
  return out;
}

Tensor mul_channels(Tensor x, const Tensor& scale) {
  require_rank(x, 4, "input");
  require_shape(scale, {x.dim(0), x.dim(1), 1, 1}, "scale");
  const auto s = scale.f32();
  for_planes(x, [&](std::int64_t nc, float* data, std::int64_t plane) {
    const double sv = s[nc];
    for (std::int64_t i = 0; i < plane; ++i) data[i] = static_cast<float>(static_cast<double>(data[i]) * sv);
  });
  return x;
}

Tensor channel_affine(Tensor x, const std::vector<double>& scale, const std::vector<double>& shift) {
  require_rank(x, 4, "input");
  const auto channels = static_cast<std::size_t>(x.dim(1));
  if (scale.size() != channels || shift.size() != channels) {
    throw Error(ErrorKind::BadInput,
                fmt::format("{} channels, but {} scales and {} shifts", channels, scale.size(), shift.size()));
  }
  for_planes(x, [&](std::int64_t nc, float* data, std::int64_t plane) {
    const auto c = static_cast<std::size_t>(nc) % channels;
    for (std::int64_t i = 0; i < plane; ++i) {
      data[i] = static_cast<float>(static_cast<double>(data[i]) * scale[c] + shift[c]);
    }
  });
  return x;
}

Tensor add(Tensor a, const Tensor& b) {
  require_f32(a, "first operand");
  require_shape(b, a.shape(), "second operand");
  auto pa = a.f32();
  const auto pb = b.f32();
  for_chunks(static_cast<std::int64_t>(pa.size()), [&](std::int64_t begin, std::int64_t end) {
    for (auto i = static_cast<std::size_t>(begin); i < static_cast<std::size_t>(end); ++i) {
      pa[i] = static_cast<float>(static_cast<double>(pa[i]) + static_cast<double>(pb[i]));
    }
  });
  return a;
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
