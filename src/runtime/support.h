// What the engine can run, decided at load so that an unsupported model fails
// there (naming the node) rather than at its first inference.
#pragma once

#include <vector>

#include "runtime/graph.h"

namespace pt2onnx::runtime {

// Per value: computable before any inference (constants, Shape outputs, and
// shape ops over those). Indexed by ValueId.
std::vector<bool> static_values(const Graph& g);

// Throws Error(Unsupported) naming the node and op for anything without a
// kernel: shape ops on computed tensors, non-float32 data, MaxPool indices.
void check_supported(const Graph& g);

}  // namespace pt2onnx::runtime
