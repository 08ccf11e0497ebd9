// Add(MatMul(a, W), b) with W a constant matrix and b a constant vector along
// the output's last axis (nn.Linear on a [N, H, W, C] activation, as
// torch.onnx.export writes it) becomes the MatMul's own bias (a Bias post-op
// on an extra input), so that fuse_activation can then fold a following
// activation into the MatMul too.
#include "runtime/passes/pass.h"

namespace pt2onnx::runtime {
namespace {

// The MatMul among Add's inputs (index i) whose other input is a bias for it.
NodeId matmul_with_bias(const Graph& g, const Node& add, std::size_t i) {
  const auto producer = sole_producer(g, add.inputs[i]);
  if (producer == kNoNode) return kNoNode;
  const auto& mm = g.node(producer);
  if (mm.op != OpType::MatMul || !mm.post_ops.empty() || mm.inputs.size() != 2 || mm.outputs.size() != 1)
    return kNoNode;
  const auto& w = g.value(mm.inputs[1]);
  const auto& y = g.value(mm.outputs[0]).dims;
  const auto bias = add.inputs[1 - i];
  if (!w.constant || !w.dims || w.dims->size() != 2 || !y || y->size() < 2 || !y->back().is_known()) return kNoNode;
  if (!g.is_constant(bias) || g.value(bias).dtype != DType::Float32) return kNoNode;
  // [N] or [1, ..., 1, N], of rank at most the output's: the sum keeps the output's shape.
  const auto& bd = *g.value(bias).dims;
  if (bd.empty() || bd.size() > y->size() || !bd.back().is(y->back().value())) return kNoNode;
  for (std::size_t k = 0; k + 1 < bd.size(); ++k) {
    if (!bd[k].is(1)) return kNoNode;
  }
  return producer;
}

class FuseMatMulBias final : public Pass {
 public:
  [[nodiscard]] std::string_view name() const override { return "fuse_matmul_bias"; }

  [[nodiscard]] bool match(const Graph& g, NodeId id) const override {
    const auto& n = g.node(id);
    if (n.op != OpType::Add || n.inputs.size() != 2 || !n.post_ops.empty()) return false;
    return matmul_with_bias(g, n, 0) != kNoNode || matmul_with_bias(g, n, 1) != kNoNode;
  }

  void apply(Graph& g, NodeId id) const override {
    const auto add = g.node(id);
    const std::size_t i = matmul_with_bias(g, add, 0) != kNoNode ? 0 : 1;
    const auto mm = matmul_with_bias(g, add, i);
    g.set_input(mm, 2, add.inputs[1 - i]);
    PostOp bias;
    bias.kind = PostOpKind::Bias;
    bias.sum_input = 2;
    g.node(mm).post_ops.push_back(bias);
    const auto out = g.node(mm).outputs[0];
    g.remove_node(id);
    g.replace_uses(add.outputs[0], out);
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_matmul_bias() { return std::make_unique<FuseMatMulBias>(); }

}  // namespace pt2onnx::runtime
