// Evaluates the shape computations torch.onnx.export emits (Shape, Gather,
// Unsqueeze, Concat, Cast, Reshape, small int arithmetic, ...) once their
// inputs are known, by each op's rule (OpDef::evaluate, ops/*.cpp). Used by
// the fold_constants pass and, with the passes switched off, by the planner;
// never on the hot path.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/graph.h"

namespace pt2onnx::runtime {

// True when n is a shape op whose inputs are all constants (Shape: whose
// input dims are all known) and whose output dims are inferred.
bool can_evaluate(const Graph& g, const Node& n);

// The values of n's outputs. Throws Error(BadInput) for out-of-range
// indices or division by zero, Error(Unsupported) for casts we lack.
std::vector<Tensor> evaluate(const Graph& g, const Node& n);

// Helpers for the per-operator rules.
// Input i's value: a constant.
const Tensor& constant_input(const Graph& g, const Node& n, std::size_t i);
// Output i's dims, all known.
Shape output_shape(const Graph& g, const Node& n, std::size_t i = 0);
bool is_integer(DType d);
// Element i of an integer tensor.
std::int64_t int_at(const Tensor& t, std::int64_t i);
// Stores an integer (integer_value) or real value as element i in t's dtype.
void store(Tensor& t, std::int64_t i, std::int64_t iv, double dv, bool integer_value);

}  // namespace pt2onnx::runtime
