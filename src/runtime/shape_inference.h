// Shape and dtype inference for the engine's operators. At load time some
// dims are symbols (the batch); at plan time all are known, and the same rules
// run again. Errors are Error(BadInput) naming the node: shapes that cannot
// work together are a malformed model.
#pragma once

#include <vector>

#include "runtime/graph.h"

namespace pt2onnx::runtime {

struct OutputInfo {
  DType dtype = DType::Float32;
  MaybeDims dims;
};

// Fills dtype and dims of every node output, in execution order.
void infer_shapes(Graph& g);
// The same for one node, whose inputs' shapes are up to date.
void infer_node_shapes(Graph& g, NodeId id);

// The per-operator rules (shape_inference_*.cpp), dispatched by infer_shapes.
std::vector<OutputInfo> infer_conv(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_pool(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_global_pool(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_batch_norm(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_gemm(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_matmul(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_flatten(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_reshape(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_squeeze(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_unsqueeze(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_concat(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_shape_op(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_gather(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_slice(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_pad(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_transpose(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_reduce_mean(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_layer_norm(const Graph& g, const Node& n);

// Helpers for the rules.
void expect_arity(const Node& n, std::size_t min_inputs, std::size_t max_inputs);
const MaybeDims& input_dims(const Graph& g, const Node& n, std::size_t i);

}  // namespace pt2onnx::runtime
