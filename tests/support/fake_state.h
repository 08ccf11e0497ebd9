// State dicts made from a graph's own expectations, for binder and registry tests.
#pragma once

#include <cstring>
#include <string>

#include "checkpoint/state_dict.h"
#include "nn/layer_graph.h"

namespace pt2onnx::testing {

// A float32 tensor of `shape` whose values are small and vary with `seed`.
inline Tensor patterned(const Shape& shape, std::uint32_t seed) {
  Tensor t(DType::Float32, shape);
  auto v = t.f32();
  std::uint32_t s = seed * 2654435761U + 1U;
  for (auto& x : v) {
    s = s * 1664525U + 1013904223U;
    x = static_cast<float>(s >> 8) / static_cast<float>(1U << 24) - 0.5f;
  }
  return t;
}

// Every key the graph expects, with its shape, plus num_batches_tracked after
// each BatchNorm as torch writes it. Running variances are kept positive;
// integer buffers are int64 zeros.
inline checkpoint::StateDict fake_state(const nn::LayerGraph& graph) {
  checkpoint::StateDict state;
  std::uint32_t seed = 1;
  for (const auto& layer : graph.layers) {
    for (const auto& spec : layer.expected_params()) {
      Tensor t = spec.integer ? Tensor(DType::Int64, spec.shape) : patterned(spec.shape, seed++);
      if (spec.local_name == "running_var") {
        for (auto& x : t.f32()) x = 0.5f + x * x;
      }
      state.entries.emplace_back(nn::state_key(layer.path, spec.local_name), std::move(t));
    }
    if (layer.kind == nn::LayerKind::BatchNorm2d) {
      state.entries.emplace_back(layer.path + ".num_batches_tracked", Tensor(DType::Int64, {}));
    }
  }
  return state;
}

inline void erase_key(checkpoint::StateDict& state, const std::string& key) {
  std::erase_if(state.entries, [&](const auto& e) { return e.first == key; });
}

inline Tensor* find_mutable(checkpoint::StateDict& state, const std::string& key) {
  for (auto& [k, t] : state.entries) {
    if (k == key) return &t;
  }
  return nullptr;
}

}  // namespace pt2onnx::testing
