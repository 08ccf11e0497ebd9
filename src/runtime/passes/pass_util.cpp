#include <algorithm>

#include "runtime/op_def.h"
#include "runtime/passes/pass.h"

namespace pt2onnx::runtime {

NodeId sole_producer(const Graph& g, ValueId v) {
  if (v == kNoValue || g.is_graph_output(v)) return kNoNode;
  const auto producer = g.value(v).producer;
  if (producer == kNoNode) return kNoNode;
  const auto readers = g.consumers(v);
  if (readers.size() != 1) return kNoNode;
  // Read once: a node that uses v twice (x * x) cannot take it over either.
  const auto& reader = g.node(readers[0]);
  if (std::count(reader.inputs.begin(), reader.inputs.end(), v) != 1) return kNoNode;
  return producer;
}

const Node* sole_producer_node(const Graph& g, ValueId v, OpType op) {
  const auto id = sole_producer(g, v);
  if (id == kNoNode) return nullptr;
  const auto& n = g.node(id);
  if (n.op != op || !n.post_ops.empty() || n.outputs.size() != 1) return nullptr;
  return &n;
}

bool is_constant_batch_norm(const Graph& g, const Node& n) {
  if (n.op != OpType::BatchNormalization || n.inputs.size() != 5 || n.outputs.size() != 1) return false;
  return std::all_of(n.inputs.begin() + 1, n.inputs.end(),
                     [&](ValueId v) { return g.is_constant(v) && g.value(v).constant->dtype() == DType::Float32; });
}

std::optional<Activation> activation_of(const Graph& g, const Node& n) {
  const auto rule = op_def(n.op).activation;
  if (!rule) return std::nullopt;
  return rule(g, n);
}

}  // namespace pt2onnx::runtime
