// Identity and Dropout in inference mode (or of ratio 0) pass their input through unchanged;
// torch.onnx.export leaves Identity nodes on shared initializers. Readers
// are pointed at the input and the node dropped.
#include "runtime/op_util.h"
#include "runtime/passes/pass.h"

namespace pt2onnx::runtime {
namespace {

class RemoveIdentity final : public Pass {
 public:
  [[nodiscard]] std::string_view name() const override { return "remove_identity"; }

  [[nodiscard]] bool match(const Graph& g, NodeId id) const override {
    const auto& n = g.node(id);
    if (n.inputs.empty() || n.inputs[0] == kNoValue) return false;
    if (n.op == OpType::Identity) return true;
    if (n.op != OpType::Dropout) return false;
    // A used mask output would need computing; training mode is rejected earlier.
    if (n.outputs.size() > 1 && (!g.consumers(n.outputs[1]).empty() || g.is_graph_output(n.outputs[1]))) return false;
    return dropout_is_identity(g, n);
  }

  void apply(Graph& g, NodeId id) const override {
    const auto in = g.node(id).inputs[0];
    const auto out = g.node(id).outputs[0];
    g.remove_node(id);
    g.replace_uses(out, in);
  }
};

}  // namespace

std::unique_ptr<Pass> make_remove_identity() { return std::make_unique<RemoveIdentity>(); }

}  // namespace pt2onnx::runtime
