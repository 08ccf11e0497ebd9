// The engine's own graph: values and nodes referred to by id, owned by Graph.
// Passes edit it; the planner compiles it. No protobuf types past the loader.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pt2onnx/dtype.h"
#include "pt2onnx/error.h"
#include "pt2onnx/tensor.h"
#include "runtime/attributes.h"
#include "runtime/dim.h"
#include "runtime/op_type.h"

namespace pt2onnx::runtime {

using ValueId = std::int32_t;
using NodeId = std::int32_t;
inline constexpr ValueId kNoValue = -1;
inline constexpr NodeId kNoNode = -1;

struct Value {
  std::string name;
  DType dtype = DType::Float32;
  MaybeDims dims;                          // filled by shape inference
  std::shared_ptr<const Tensor> constant;  // initializers, Constant nodes, folded values
  NodeId producer = kNoNode;
};

// An activation applied by an eltwise kernel or fused into a producer.
enum class ActivationKind { Relu, Clip, Sigmoid, HardSigmoid, HardSwish, Swish, Gelu, Tanh };
struct Activation {
  ActivationKind kind = ActivationKind::Relu;
  float alpha = 0.0f;  // Clip: lower bound; HardSigmoid: slope
  float beta = 0.0f;   // Clip: upper bound; HardSigmoid: offset
};

// Work a fused node does after its main computation, in order. A Bias (a
// constant broadcast along the last axis, fused into a MatMul by
// fuse_matmul_bias) comes first and is the primitive's own bias.
enum class PostOpKind { Activation, Sum, Bias };
struct PostOp {
  PostOpKind kind = PostOpKind::Activation;
  Activation activation;      // kind == Activation
  std::size_t sum_input = 0;  // kind == Sum or Bias: index into Node::inputs of the tensor added
};

struct Node {
  std::string name;
  OpType op = OpType::Identity;
  std::vector<ValueId> inputs;  // kNoValue for an omitted optional input
  std::vector<ValueId> outputs;
  AttributeMap attrs;
  std::vector<PostOp> post_ops;
  bool alive = true;
};

class Graph {
 public:
  int opset = 0;  // default-domain opset of the model

  ValueId add_value(Value value);
  ValueId add_constant(const std::string& name_hint, Tensor tensor);
  // Appends to the order; the caller keeps the order topological or calls sort_topologically.
  NodeId add_node(Node node);
  // Marks the node dead; its outputs lose their producer.
  void remove_node(NodeId id);

  [[nodiscard]] Node& node(NodeId id) { return nodes_.at(static_cast<std::size_t>(id)); }
  [[nodiscard]] const Node& node(NodeId id) const { return nodes_.at(static_cast<std::size_t>(id)); }
  [[nodiscard]] Value& value(ValueId id) { return values_.at(static_cast<std::size_t>(id)); }
  [[nodiscard]] const Value& value(ValueId id) const { return values_.at(static_cast<std::size_t>(id)); }
  [[nodiscard]] std::size_t value_count() const { return values_.size(); }

  // Live nodes in execution order.
  [[nodiscard]] const std::vector<NodeId>& order() const;
  [[nodiscard]] std::vector<ValueId>& inputs() { return inputs_; }
  [[nodiscard]] const std::vector<ValueId>& inputs() const { return inputs_; }
  [[nodiscard]] std::vector<ValueId>& outputs() { return outputs_; }
  [[nodiscard]] const std::vector<ValueId>& outputs() const { return outputs_; }

  // Live nodes reading v, each listed once.
  [[nodiscard]] std::vector<NodeId> consumers(ValueId v) const;
  [[nodiscard]] bool is_graph_output(ValueId v) const;
  [[nodiscard]] bool is_graph_input(ValueId v) const;
  [[nodiscard]] bool is_constant(ValueId v) const { return v != kNoValue && value(v).constant != nullptr; }
  // Points every reader of `from` (nodes and graph outputs) at `to`.
  void replace_uses(ValueId from, ValueId to);
  // A node's inputs are changed only through these, which keep the index of
  // readers that consumers() and replace_uses() use (check() verifies it).
  // set_input grows the list with kNoValue up to `index`.
  void set_input(NodeId id, std::size_t index, ValueId v);
  void set_inputs(NodeId id, std::vector<ValueId> inputs);
  // Drops dead nodes from the order and re-sorts it (stable); throws kind on a cycle.
  void sort_topologically(ErrorKind kind = ErrorKind::Internal);
  // Structural invariants: every input defined before use, one producer per value,
  // outputs defined. Throws Error(kind) naming the node.
  void check(ErrorKind kind = ErrorKind::Internal) const;

  [[nodiscard]] std::map<OpType, int> op_counts() const;
  [[nodiscard]] int count(OpType op) const;
  // "node 'name' (Conv)" for messages.
  [[nodiscard]] std::string describe(NodeId id) const;
  [[nodiscard]] std::string unique_value_name(const std::string& base);

 private:
  void add_reader(ValueId v, NodeId id);
  void drop_reader(ValueId v, NodeId id);

  std::vector<Node> nodes_;
  std::vector<Value> values_;
  // Per value, the live nodes reading it, once per input that reads it: every
  // edit is proportional to the edges it touches, so the passes run in time
  // linear in the graph, not quadratic (a chain of 100,000 Identity nodes).
  std::vector<std::vector<NodeId>> readers_;
  // Removed nodes leave the order lazily (a removal is then O(1)); order()
  // drops them before anyone sees it.
  mutable std::vector<NodeId> order_;
  mutable bool order_has_dead_ = false;
  std::vector<ValueId> inputs_;
  std::vector<ValueId> outputs_;
  std::map<std::string, int> name_counts_;
};

std::string describe_node(const Node& node);

}  // namespace pt2onnx::runtime
