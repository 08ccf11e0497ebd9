// Shape and dtype inference for the engine's operators. At load time some
// dims are symbols (the batch); at plan time all are known, and the same rules
// run again. Errors are Error(BadInput) naming the node: shapes that cannot
// work together are a malformed model.
#pragma once

#include <vector>

#include "runtime/graph.h"
#include "runtime/op_def.h"

namespace pt2onnx::runtime {

// Fills dtype and dims of every node output, in execution order.
void infer_shapes(Graph& g);
// The same for one node, whose inputs' shapes are up to date.
void infer_node_shapes(Graph& g, NodeId id);

// Helpers for the per-operator rules, which live with each operator's
// definition (ops/*.cpp, read through op_def.h).
void expect_arity(const Node& n, std::size_t min_inputs, std::size_t max_inputs);
const MaybeDims& input_dims(const Graph& g, const Node& n, std::size_t i);
DType input_dtype(const Graph& g, const Node& n, std::size_t i);
// Input 0's dtype and dims.
std::vector<OutputInfo> same_as_input(const Graph& g, const Node& n);

}  // namespace pt2onnx::runtime
