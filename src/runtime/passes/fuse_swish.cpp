// x * Sigmoid(x) (SiLU, as torch.onnx.export writes nn.SiLU) becomes one
// Swish node, which fuse_activation can then fold into the producing Conv.
#include "runtime/passes/pass.h"

namespace pt2onnx::runtime {
namespace {

// The Sigmoid node among Mul's inputs whose own input is the other Mul input.
NodeId sigmoid_of_other(const Graph& g, const Node& mul, std::size_t i) {
  const auto s = mul.inputs[i];
  const auto x = mul.inputs[1 - i];
  const auto producer = sole_producer(g, s);
  if (producer == kNoNode) return kNoNode;
  const auto& sig = g.node(producer);
  if (sig.op != OpType::Sigmoid || sig.inputs.size() != 1 || sig.inputs[0] != x) return kNoNode;
  return producer;
}

class FuseSwish final : public Pass {
 public:
  [[nodiscard]] std::string_view name() const override { return "fuse_swish"; }

  [[nodiscard]] bool match(const Graph& g, NodeId id) const override {
    const auto& n = g.node(id);
    if (n.op != OpType::Mul || n.inputs.size() != 2 || !n.post_ops.empty()) return false;
    if (g.value(n.inputs[0]).dtype != DType::Float32) return false;
    return sigmoid_of_other(g, n, 0) != kNoNode || sigmoid_of_other(g, n, 1) != kNoNode;
  }

  void apply(Graph& g, NodeId id) const override {
    const auto& n = g.node(id);
    const std::size_t i = sigmoid_of_other(g, n, 0) != kNoNode ? 0 : 1;
    const auto sigmoid = sigmoid_of_other(g, n, i);
    const auto x = n.inputs[1 - i];
    g.remove_node(sigmoid);
    g.set_inputs(id, {x});
    auto& mul = g.node(id);
    mul.op = OpType::Swish;
    mul.attrs = {};
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_swish() { return std::make_unique<FuseSwish>(); }

}  // namespace pt2onnx::runtime
