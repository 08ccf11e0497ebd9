// A residual Add(conv(x), y) becomes a sum post-op of the Conv: oneDNN adds
// the conv result into a destination that already holds y, saving a full pass
// over the tensor. Safe only without broadcasting (y has the conv output's
// shape) and when the conv output has no other reader. The planner makes y's
// buffer the destination when y dies there, and copies y otherwise.
#include <algorithm>

#include "runtime/op_util.h"
#include "runtime/passes/pass.h"

namespace pt2onnx::runtime {
namespace {

bool has_sum(const Node& n) {
  return std::any_of(n.post_ops.begin(), n.post_ops.end(), [](const PostOp& p) { return p.kind == PostOpKind::Sum; });
}

// The conv that can absorb input i of the Add, or kNoNode.
NodeId fusable_conv(const Graph& g, const Node& add, std::size_t i) {
  const auto a = add.inputs[i];
  const auto b = add.inputs[1 - i];
  if (a == b) return kNoNode;
  const auto conv = sole_producer(g, a);
  if (conv == kNoNode || g.node(conv).op != OpType::Conv || has_sum(g.node(conv))) return kNoNode;
  const auto& da = g.value(a).dims;
  const auto& db = g.value(b).dims;
  if (!da || !db || !same_dims(*da, *db)) return kNoNode;
  if (g.value(b).dtype != DType::Float32) return kNoNode;
  return conv;
}

std::ptrdiff_t position(const Graph& g, NodeId id) {
  const auto& order = g.order();
  return std::find(order.begin(), order.end(), id) - order.begin();
}

class FuseConvAdd final : public Pass {
 public:
  [[nodiscard]] std::string_view name() const override { return "fuse_conv_add"; }

  [[nodiscard]] bool match(const Graph& g, NodeId id) const override {
    const auto& n = g.node(id);
    if (n.op != OpType::Add || n.inputs.size() != 2 || !n.post_ops.empty()) return false;
    return fusable_conv(g, n, 0) != kNoNode || fusable_conv(g, n, 1) != kNoNode;
  }

  void apply(Graph& g, NodeId id) const override {
    const auto add = g.node(id);
    const auto c0 = fusable_conv(g, add, 0);
    const auto c1 = fusable_conv(g, add, 1);
    // Of two candidate convs take the later one: the other operand is then
    // already computed and the order barely changes.
    const std::size_t i = c1 == kNoNode || (c0 != kNoNode && position(g, c0) > position(g, c1)) ? 0 : 1;
    const auto conv_id = i == 0 ? c0 : c1;
    // After the bias slot, which stays the bias slot (kNoValue when there is none).
    g.set_input(conv_id, std::max<std::size_t>(3, g.node(conv_id).inputs.size()), add.inputs[1 - i]);
    auto& conv = g.node(conv_id);
    PostOp sum;
    sum.kind = PostOpKind::Sum;
    sum.sum_input = conv.inputs.size() - 1;
    conv.post_ops.push_back(sum);
    const auto conv_out = conv.outputs[0];
    g.remove_node(id);
    g.replace_uses(add.outputs[0], conv_out);
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_conv_add() { return std::make_unique<FuseConvAdd>(); }

}  // namespace pt2onnx::runtime
