// Squeeze-excitation's channel-wise Mul(x, gate) into the 1x1 Conv that reads
// it: Conv(x * g) = (W diag(g)) x. The planner then, at batch 1, scales the
// weights (C_out x C_in values) instead of the activation (H x W x C_in, a
// full extra pass over the block's largest tensor), and at larger batches
// runs the Mul just before the Conv, as before.
#include "runtime/op_util.h"
#include "runtime/passes/pass.h"

namespace pt2onnx::runtime {
namespace {

bool all_zero(const std::vector<std::int64_t>& v) {
  for (auto x : v) {
    if (x != 0) return false;
  }
  return true;
}

bool all_one(const std::vector<std::int64_t>& v) {
  for (auto x : v) {
    if (x != 1) return false;
  }
  return true;
}

// The plain 1x1, stride 1, unpadded, ungrouped Conv that is the only reader of v (as its input), or kNoNode.
NodeId pointwise_reader(const Graph& g, ValueId v) {
  if (g.is_graph_output(v)) return kNoNode;
  const auto readers = g.consumers(v);
  if (readers.size() != 1) return kNoNode;
  const auto& conv = g.node(readers[0]);
  if (conv.op != OpType::Conv || conv.input_scale || conv.inputs[0] != v) return kNoNode;
  for (std::size_t i = 1; i < conv.inputs.size(); ++i) {
    if (conv.inputs[i] == v) return kNoNode;
  }
  const auto& w = g.value(conv.inputs[1]).dims;
  if (!g.is_constant(conv.inputs[1]) || !w || w->size() != 4 || !(*w)[2].is(1) || !(*w)[3].is(1)) return kNoNode;
  if (conv.attrs.get_int("group", 1) != 1 || !all_one(conv.attrs.get_ints("strides", {1, 1})) ||
      !all_zero(conv.attrs.get_ints("pads", {0, 0, 0, 0})) || conv.attrs.get_string("auto_pad", "NOTSET") != "NOTSET") {
    return kNoNode;
  }
  return readers[0];
}

// Index of the gate ([N, C, 1, 1], computed) among the Mul's inputs when the other is [N, C, H, W]; 2 if none.
std::size_t gate_index(const Graph& g, const Node& mul) {
  for (std::size_t i = 0; i < 2; ++i) {
    const auto gate = mul.inputs[i];
    const auto x = mul.inputs[1 - i];
    const auto& gd = g.value(gate).dims;
    const auto& xd = g.value(x).dims;
    if (g.is_constant(gate) || g.is_constant(x) || !gd || !xd || gd->size() != 4 || xd->size() != 4) continue;
    if (g.value(gate).dtype != DType::Float32 || g.value(x).dtype != DType::Float32) continue;
    if ((*gd)[0].same_as((*xd)[0]) && (*gd)[1].same_as((*xd)[1]) && (*gd)[2].is(1) && (*gd)[3].is(1) &&
        !((*xd)[2].is(1) && (*xd)[3].is(1))) {
      return i;
    }
  }
  return 2;
}

class FoldSeScale final : public Pass {
 public:
  [[nodiscard]] std::string_view name() const override { return "fold_se_scale"; }

  [[nodiscard]] bool match(const Graph& g, NodeId id) const override {
    const auto& n = g.node(id);
    if (n.op != OpType::Mul || n.inputs.size() != 2 || !n.post_ops.empty() || n.inputs[0] == n.inputs[1]) return false;
    return gate_index(g, n) < 2 && pointwise_reader(g, n.outputs[0]) != kNoNode;
  }

  void apply(Graph& g, NodeId id) const override {
    const auto mul = g.node(id);
    const auto i = gate_index(g, mul);
    auto& conv = g.node(pointwise_reader(g, mul.outputs[0]));
    conv.inputs[0] = mul.inputs[1 - i];
    conv.inputs.push_back(mul.inputs[i]);
    conv.input_scale = conv.inputs.size() - 1;
    g.remove_node(id);
  }
};

}  // namespace

std::unique_ptr<Pass> make_fold_se_scale() { return std::make_unique<FoldSeScale>(); }

}  // namespace pt2onnx::runtime
