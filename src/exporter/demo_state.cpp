#include "exporter/demo_state.h"

#include <fmt/format.h>

#include "common/random.h"
#include "pt2onnx/error.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>

namespace pt2onnx::exporter {
namespace {

Tensor normal_tensor(Random& rng, const Shape& shape, double mean, double stddev) {
  Tensor t(DType::Float32, shape);
  for (auto& v : t.f32()) v = static_cast<float>(mean + stddev * rng.normal());
  return t;
}

Tensor uniform_tensor(Random& rng, const Shape& shape, double low, double high) {
  Tensor t(DType::Float32, shape);
  for (auto& v : t.f32()) v = static_cast<float>(low + (high - low) * rng.uniform());
  return t;
}

// A Linear's (or a projection's) parameter: the weight normal with std 1 / sqrt(fan_in), the bias small.
Tensor linear_param(Random& rng, const nn::ParamSpec& spec, std::int64_t fan_in, bool weight) {
  if (weight) return normal_tensor(rng, spec.shape, 0.0, 1.0 / std::sqrt(std::max(static_cast<double>(fan_in), 1.0)));
  return normal_tensor(rng, spec.shape, 0.0, 0.05);
}

Tensor make_param(Random& rng, const nn::Layer& layer, const nn::ParamSpec& spec) {
  const auto& name = spec.local_name;
  switch (layer.kind) {
    case nn::LayerKind::Conv2d: {
      const auto& a = layer.as<nn::Conv2dAttrs>();
      const std::int64_t per_group = a.in_channels / std::max<std::int64_t>(a.groups, 1);
      const auto fan_in = static_cast<double>(per_group * a.kernel[0] * a.kernel[1]);
      if (name == "weight") return normal_tensor(rng, spec.shape, 0.0, std::sqrt(2.0 / std::max(fan_in, 1.0)));
      return normal_tensor(rng, spec.shape, 0.0, 0.05);
    }
    case nn::LayerKind::BatchNorm2d:
      if (name == "weight") return uniform_tensor(rng, spec.shape, 0.75, 1.25);
      if (name == "running_var") return uniform_tensor(rng, spec.shape, 0.5, 1.5);
      return normal_tensor(rng, spec.shape, 0.0, 0.1);  // bias, running_mean
    case nn::LayerKind::LayerNorm2d:
    case nn::LayerKind::LayerNorm:
      if (name == "weight") return uniform_tensor(rng, spec.shape, 0.75, 1.25);
      return normal_tensor(rng, spec.shape, 0.0, 0.1);
    case nn::LayerKind::LayerScale:  // trained ConvNeXt scales are small, far above their 1e-6 start
      return uniform_tensor(rng, spec.shape, 0.05, 0.5);
    case nn::LayerKind::MultiheadAttention:  // in_proj_weight, out_proj.weight and their biases
      return linear_param(rng, spec, layer.as<nn::AttentionAttrs>().dim, name.ends_with("weight"));
    case nn::LayerKind::Linear:
    case nn::LayerKind::PointwiseLinear:
    case nn::LayerKind::TokenLinear:
      return linear_param(rng, spec, layer.as<nn::LinearAttrs>().in_features, name == "weight");
    case nn::LayerKind::WindowAttention:
    case nn::LayerKind::GroupAttention: {
      const auto& a = layer.as<nn::WindowAttrs>();
      if (spec.integer) {  // relative_position_index: torchvision's own values
        const auto index = nn::relative_position_index(a.window);
        Tensor t(DType::Float32, spec.shape);
        std::transform(index.begin(), index.end(), t.f32().begin(),
                       [](std::int64_t i) { return static_cast<float>(i); });
        return t;
      }
      // trained bias tables reach a few units: some windows' neighbours matter far more than others
      if (name == "relative_position_bias_table") return normal_tensor(rng, spec.shape, 0.0, 1.0);
      return linear_param(rng, spec, a.dim, name.ends_with("weight"));
    }
    case nn::LayerKind::PatchMerging:
      if (name == "norm.weight") return uniform_tensor(rng, spec.shape, 0.75, 1.25);
      if (name == "norm.bias") return normal_tensor(rng, spec.shape, 0.0, 0.1);
      return linear_param(rng, spec, 4 * layer.as<nn::PatchMergingAttrs>().dim, true);
    default:
      return normal_tensor(rng, spec.shape, 0.0, 0.1);
  }
}

Tensor int64_copy(const Tensor& t) {
  Tensor out(DType::Int64, t.shape());
  const auto src = t.f32();
  for (std::size_t i = 0; i < src.size(); ++i) {
    const auto v = static_cast<std::int64_t>(src[i]);
    std::memcpy(out.bytes().data() + i * sizeof v, &v, sizeof v);
  }
  return out;
}

}  // namespace

checkpoint::StateDict demo_state_dict(const nn::LayerGraph& graph, std::uint64_t seed) {
  nn::LayerGraph bound = graph;
  bind_demo_params(bound, seed);
  return state_dict_of(bound);
}

void bind_demo_params(nn::LayerGraph& graph, std::uint64_t seed) {
  Random rng(seed);
  for (auto& layer : graph.layers) {
    for (const auto& spec : layer.expected_params()) layer.params[spec.local_name] = make_param(rng, layer, spec);
  }
}

checkpoint::StateDict state_dict_of(const nn::LayerGraph& graph) {
  checkpoint::StateDict state;
  for (const auto& layer : graph.layers) {
    for (const auto& spec : layer.expected_params()) {
      const auto it = layer.params.find(spec.local_name);
      if (it == layer.params.end()) {
        throw_error(ErrorKind::Internal, fmt::format("layer {} has no bound {}", layer.path, spec.local_name));
      }
      // an index buffer goes back to the int64 torch keeps it as
      state.entries.emplace_back(nn::state_key(layer.path, spec.local_name),
                                 spec.integer ? int64_copy(it->second) : it->second);
    }
    // torch registers this buffer on every BatchNorm with track_running_stats,
    // and load_state_dict(strict=True) insists on it.
    if (layer.kind == nn::LayerKind::BatchNorm2d) {
      state.entries.emplace_back(layer.path + ".num_batches_tracked", Tensor(DType::Int64, Shape{}));
    }
  }
  return state;
}

}  // namespace pt2onnx::exporter
