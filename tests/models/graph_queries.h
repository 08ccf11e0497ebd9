// Questions the model tests ask of a built layer graph.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "nn/layer_graph.h"

namespace pt2onnx::models {

// sum(p.numel() for p in model.parameters()): the state entries that are not buffers.
inline std::int64_t parameter_count(const nn::LayerGraph& g) {
  std::int64_t n = 0;
  for (const auto& [key, spec] : g.expected_state()) {
    if (!spec.is_buffer) n += shape_numel(spec.shape);
  }
  return n;
}

// The layer at a torchvision module path; throws when there is none.
inline const nn::Layer& layer_at(const nn::LayerGraph& g, const std::string& path) {
  for (const auto& l : g.layers) {
    if (l.path == path) return l;
  }
  throw std::runtime_error("no layer " + path);
}

}  // namespace pt2onnx::models
