// Evaluates the shape computations torch.onnx.export emits (Shape, Gather,
// Unsqueeze, Concat, Cast, Reshape, small int arithmetic, ...) once their
// inputs are known. Used by the fold_constants pass and, with the passes
// switched off, by the planner; never on the hot path.
#pragma once

#include <vector>

#include "runtime/graph.h"

namespace pt2onnx::runtime {

// True when n is a shape op whose inputs are all constants (Shape: whose
// input dims are all known) and whose output dims are inferred.
bool can_evaluate(const Graph& g, const Node& n);

// The values of n's outputs. Throws Error(BadInput) for out-of-range
// indices or division by zero, Error(Unsupported) for casts we lack.
std::vector<Tensor> evaluate(const Graph& g, const Node& n);

}  // namespace pt2onnx::runtime
