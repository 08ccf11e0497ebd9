#include "exporter/demo_state.h"

#include <fmt/format.h>

#include "common/error.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace pt2onnx::exporter {
namespace {

Tensor normal_tensor(DemoRng& rng, const Shape& shape, double mean, double stddev) {
  Tensor t(DType::Float32, shape);
  for (auto& v : t.f32()) v = static_cast<float>(mean + stddev * rng.normal());
  return t;
}

Tensor uniform_tensor(DemoRng& rng, const Shape& shape, double low, double high) {
  Tensor t(DType::Float32, shape);
  for (auto& v : t.f32()) v = static_cast<float>(low + (high - low) * rng.uniform());
  return t;
}

Tensor make_param(DemoRng& rng, const nn::Layer& layer, const nn::ParamSpec& spec) {
  const auto& name = spec.local_name;
  switch (layer.kind) {
    case nn::LayerKind::Conv2d: {
      const auto& a = layer.as<nn::Conv2dAttrs>();
      const auto fan_in = static_cast<double>(a.in_channels / std::max<std::int64_t>(a.groups, 1) * a.kernel[0] * a.kernel[1]);
      if (name == "weight") return normal_tensor(rng, spec.shape, 0.0, std::sqrt(2.0 / std::max(fan_in, 1.0)));
      return normal_tensor(rng, spec.shape, 0.0, 0.05);
    }
    case nn::LayerKind::BatchNorm2d:
      if (name == "weight") return uniform_tensor(rng, spec.shape, 0.75, 1.25);
      if (name == "running_var") return uniform_tensor(rng, spec.shape, 0.5, 1.5);
      return normal_tensor(rng, spec.shape, 0.0, 0.1);  // bias, running_mean
    case nn::LayerKind::Linear: {
      const auto fan_in = static_cast<double>(layer.as<nn::LinearAttrs>().in_features);
      if (name == "weight") return normal_tensor(rng, spec.shape, 0.0, 1.0 / std::sqrt(std::max(fan_in, 1.0)));
      return normal_tensor(rng, spec.shape, 0.0, 0.05);
    }
    default: return normal_tensor(rng, spec.shape, 0.0, 0.1);
  }
}

}  // namespace

std::uint64_t DemoRng::next_u64() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double DemoRng::uniform() {
  // The top 53 bits make every double in [0, 1) on a 2^-53 grid equally likely.
  return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

double DemoRng::normal() {
  // The second Box-Muller value is dropped: the same stream as common/random.h's
  // Random on the verify branch, so the two can merge without changing any
  // demo checkpoint.
  const double u1 = 1.0 - uniform();  // (0, 1]: log stays finite
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

checkpoint::StateDict demo_state_dict(const nn::Graph& graph, std::uint64_t seed) {
  DemoRng rng(seed);
  checkpoint::StateDict state;
  for (const auto& layer : graph.layers) {
    for (const auto& spec : layer.expected_params()) {
      state.entries.emplace_back(layer.path + "." + spec.local_name, make_param(rng, layer, spec));
    }
    // torch registers this buffer on every BatchNorm with track_running_stats,
    // and load_state_dict(strict=True) insists on it.
    if (layer.kind == nn::LayerKind::BatchNorm2d) {
      state.entries.emplace_back(layer.path + ".num_batches_tracked", Tensor(DType::Int64, Shape{}));
    }
  }
  return state;
}

void bind_demo_params(nn::Graph& graph, std::uint64_t seed) {
  const auto state = demo_state_dict(graph, seed);
  for (auto& layer : graph.layers) {
    for (const auto& spec : layer.expected_params()) {
      if (const auto* t = state.find(layer.path + "." + spec.local_name)) layer.params[spec.local_name] = *t;
    }
  }
}

checkpoint::StateDict state_dict_of(const nn::Graph& graph) {
  checkpoint::StateDict state;
  for (const auto& layer : graph.layers) {
    for (const auto& spec : layer.expected_params()) {
      const auto it = layer.params.find(spec.local_name);
      if (it == layer.params.end()) {
        throw_error(ErrorKind::Internal, fmt::format("layer {} has no bound {}", layer.path, spec.local_name));
      }
      state.entries.emplace_back(layer.path + "." + spec.local_name, it->second);
    }
    if (layer.kind == nn::LayerKind::BatchNorm2d) {
      state.entries.emplace_back(layer.path + ".num_batches_tracked", Tensor(DType::Int64, Shape{}));
    }
  }
  return state;
}

}  // namespace pt2onnx::exporter
