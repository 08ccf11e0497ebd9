// Folds an inference BatchNormalization into the Conv before it:
//   s = scale / sqrt(var + eps);  W' = W * s (per output channel);  b' = (b - mean) * s + B
// computed in double. Models exported with constant folding off (or in
// PRESERVE training mode) keep their BatchNormalization nodes.
#include <cmath>

#include "runtime/op_util.h"
#include "runtime/passes/pass.h"

namespace pt2onnx::runtime {
namespace {

bool float_constant(const Graph& g, ValueId v) {
  return g.is_constant(v) && g.value(v).constant->dtype() == DType::Float32;
}

class FoldBatchNorm final : public Pass {
 public:
  [[nodiscard]] std::string_view name() const override { return "fold_batch_norm"; }

  [[nodiscard]] bool match(const Graph& g, NodeId id) const override {
    const auto& bn = g.node(id);
    if (!is_constant_batch_norm(g, bn)) return false;
    const auto conv_id = sole_producer(g, bn.inputs[0]);
    if (conv_id == kNoNode) return false;
    const auto& conv = g.node(conv_id);
    if (conv.op != OpType::Conv || !conv.post_ops.empty() || !float_constant(g, conv.inputs[1])) return false;
    const auto bias = optional_input(conv, 2);
    if (bias != kNoValue && !float_constant(g, bias)) return false;
    // The per-channel parameters must match the conv's output channels.
    const auto channels = g.value(conv.inputs[1]).constant->dim(0);
    for (std::size_t i = 1; i < 5; ++i) {
      if (g.value(bn.inputs[i]).constant->numel() != channels) return false;
    }
    return true;
  }

  void apply(Graph& g, NodeId id) const override {
    const auto bn = g.node(id);  // copy: the graph grows below
    const auto conv_id = g.value(bn.inputs[0]).producer;
    const auto epsilon = static_cast<double>(bn.attrs.get_float("epsilon", 1e-5f));
    const auto scale = g.value(bn.inputs[1]).constant->f32();
    const auto shift = g.value(bn.inputs[2]).constant->f32();
    const auto mean = g.value(bn.inputs[3]).constant->f32();
    const auto var = g.value(bn.inputs[4]).constant->f32();

    const auto& w = *g.value(g.node(conv_id).inputs[1]).constant;
    const auto bias_id = optional_input(g.node(conv_id), 2);
    const auto channels = static_cast<std::size_t>(w.dim(0));
    const auto per_channel = static_cast<std::size_t>(w.numel()) / channels;
    Tensor new_w(DType::Float32, w.shape());
    Tensor new_b(DType::Float32, {w.dim(0)});
    const auto src = w.f32();
    auto dst = new_w.f32();
    auto b = new_b.f32();
    for (std::size_t c = 0; c < channels; ++c) {
      const double s = static_cast<double>(scale[c]) / std::sqrt(static_cast<double>(var[c]) + epsilon);
      for (std::size_t k = 0; k < per_channel; ++k) {
        dst[c * per_channel + k] = static_cast<float>(static_cast<double>(src[c * per_channel + k]) * s);
      }
      const double old_bias = bias_id == kNoValue ? 0.0 : static_cast<double>(g.value(bias_id).constant->f32()[c]);
      b[c] = static_cast<float>((old_bias - static_cast<double>(mean[c])) * s + static_cast<double>(shift[c]));
    }
    const auto conv_name = g.node(conv_id).name;
    const auto w_id = g.add_constant(conv_name + ".folded_weight", std::move(new_w));
    const auto b_id = g.add_constant(conv_name + ".folded_bias", std::move(new_b));
    g.set_input(conv_id, 1, w_id);
    g.set_input(conv_id, 2, b_id);
    const auto conv_out = g.node(conv_id).outputs[0];
    g.remove_node(id);
    g.replace_uses(bn.outputs[0], conv_out);
  }
};

}  // namespace

std::unique_ptr<Pass> make_fold_batch_norm() { return std::make_unique<FoldBatchNorm>(); }

}  // namespace pt2onnx::runtime
