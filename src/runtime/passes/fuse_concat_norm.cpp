// DenseNet's dense layers start with Concat (every earlier feature map, on
// the channel axis), BatchNormalization and ReLU. The three become one
// NormalizedConcat, whose kernel writes the normalised channels straight from
// the pieces (kernels/channels_last.h): the joined tensor is written once
// instead of written by the Concat, then read and written again.
#include "runtime/kernels/channels_last.h"
#include "runtime/op_util.h"
#include "runtime/passes/pass.h"

namespace pt2onnx::runtime {
namespace {

bool rank4_float(const Graph& g, ValueId v) {
  const auto& value = g.value(v);
  return value.dtype == DType::Float32 && value.dims && value.dims->size() == 4;
}

const Node* joined_pieces(const Graph& g, const Node& bn) {
  const Node* concat = sole_producer_node(g, bn.inputs[0], OpType::Concat);
  if (concat == nullptr || concat->inputs.empty() || concat->inputs.size() > kMaxConcatPieces) return nullptr;
  const auto axis = concat->attrs.find_int("axis");
  if (!axis || !rank4_float(g, concat->outputs[0]) || (*axis != 1 && *axis != -3)) return nullptr;
  for (auto v : concat->inputs) {
    if (v == kNoValue || !rank4_float(g, v) || g.is_constant(v)) return nullptr;
  }
  return concat;
}

class FuseConcatNorm final : public Pass {
 public:
  [[nodiscard]] std::string_view name() const override { return "fuse_concat_norm"; }

  [[nodiscard]] bool match(const Graph& g, NodeId id) const override {
    const auto& bn = g.node(id);
    // A ReLU post-op, or none: what the kernel applies in its pass.
    if (!is_constant_batch_norm(g, bn) || (!bn.post_ops.empty() && !post_ops_are_one_relu(bn))) return false;
    return bn.attrs.get_int("training_mode", 0) == 0 && joined_pieces(g, bn) != nullptr;
  }

  void apply(Graph& g, NodeId id) const override {
    const auto concat_id = g.value(g.node(id).inputs[0]).producer;
    std::vector<ValueId> inputs = g.node(concat_id).inputs;
    const auto& bn = g.node(id);
    inputs.insert(inputs.end(), bn.inputs.begin() + 1, bn.inputs.end());
    const auto epsilon = bn.attrs.get_float("epsilon", 1e-5f);
    g.remove_node(concat_id);
    g.set_inputs(id, std::move(inputs));
    auto& joined = g.node(id);
    joined.op = OpType::NormalizedConcat;
    joined.attrs = {};
    joined.attrs.set_float("epsilon", epsilon);
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_concat_norm() { return std::make_unique<FuseConcatNorm>(); }

}  // namespace pt2onnx::runtime
