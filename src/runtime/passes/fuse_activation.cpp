// An activation (Relu, Clip, Sigmoid, HardSigmoid, HardSwish, Swish, Gelu) whose
// input is the sole output of a Conv, Gemm, MatMul, elementwise binary op or
// BatchNormalization becomes an eltwise post-op of that producer: the
// activation is applied while the result is still in registers instead of in
// another pass (for BatchNormalization only a ReLU is, kernels/eltwise.cpp).
#include "runtime/op_def.h"
#include "runtime/passes/pass.h"

namespace pt2onnx::runtime {
namespace {

bool takes_post_ops(OpType op) { return op_def(op).takes_activation; }

class FuseActivation final : public Pass {
 public:
  [[nodiscard]] std::string_view name() const override { return "fuse_activation"; }

  [[nodiscard]] bool match(const Graph& g, NodeId id) const override {
    const auto& n = g.node(id);
    if (!is_activation(n.op) || n.inputs.empty() || !activation_of(g, n)) return false;
    const auto producer = sole_producer(g, n.inputs[0]);
    if (producer == kNoNode) return false;
    const auto& p = g.node(producer);
    return takes_post_ops(p.op) && g.value(p.outputs[0]).dtype == DType::Float32 && p.outputs.size() == 1;
  }

  void apply(Graph& g, NodeId id) const override {
    const auto act = g.node(id);
    PostOp post;
    post.kind = PostOpKind::Activation;
    post.activation = *activation_of(g, act);
    auto& producer = g.node(g.value(act.inputs[0]).producer);
    producer.post_ops.push_back(post);
    const auto out = producer.outputs[0];
    g.remove_node(id);
    g.replace_uses(act.outputs[0], out);
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_activation() { return std::make_unique<FuseActivation>(); }

}  // namespace pt2onnx::runtime
