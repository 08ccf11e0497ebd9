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

// The checks every node that runs as a kernel passes (an op's own
// OpDef::support calls them beside its limits): its parameter inputs
// (OpDef::parameter_inputs) are in `known`, its other inputs are float32.
void check_kernel_inputs(const Graph& g, const Node& n, const std::vector<bool>& known);
// Whether output i of n exists and is read or a graph output.
bool output_in_use(const Graph& g, const Node& n, std::size_t i);

}  // namespace pt2onnx::runtime
