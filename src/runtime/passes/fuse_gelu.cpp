// The exact GELU as torch.onnx.export writes nn.GELU (and F.gelu):
// x * (1 + Erf(x / sqrt(2))) * 0.5, the Div also as a Mul by 1/sqrt(2), and the
// three factors of the two Muls in any order and grouping. It becomes one Gelu
// node (oneDNN's eltwise_gelu_erf), which fuse_activation can then fold into
// the MatMul or Conv producing x.
#include <array>
#include <cmath>

#include "runtime/op_util.h"
#include "runtime/passes/pass.h"

namespace pt2onnx::runtime {
namespace {

// A float constant holding one value close to `want` (relative 1e-6: float's
// rounding of sqrt(2) or 1/sqrt(2)), of rank at most `rank`, so that
// broadcasting it changes nothing but the values.
bool gelu_constant_is(const Graph& g, ValueId v, double want, std::size_t rank) {
  if (!g.is_constant(v) || g.value(v).dtype != DType::Float32) return false;
  const auto& t = *g.value(v).constant;
  if (t.numel() != 1 || t.rank() > rank) return false;
  return std::fabs(t.element_as_double(0) - want) <= 1e-6 * std::fabs(want);
}

struct GeluMatch {
  ValueId x = kNoValue;
  std::array<NodeId, 4> removed{};  // x / sqrt(2), Erf, Add 1, the inner Mul
};

std::size_t gelu_rank(const Graph& g, ValueId v) {
  const auto& d = g.value(v).dims;
  return d ? d->size() : 0;
}

// 1 + Erf(x / sqrt(2)) with every intermediate read once; x, or kNoValue.
ValueId gelu_erf_input(const Graph& g, ValueId sum, std::array<NodeId, 4>& removed) {
  const auto* add = sole_producer_node(g, sum, OpType::Add);
  if (!add || add->inputs.size() != 2) return kNoValue;
  for (std::size_t i = 0; i < 2; ++i) {
    const auto* erf = sole_producer_node(g, add->inputs[i], OpType::Erf);
    if (!erf || !gelu_constant_is(g, add->inputs[1 - i], 1.0, gelu_rank(g, erf->outputs[0]))) continue;
    const auto* div = sole_producer_node(g, erf->inputs[0], OpType::Div);
    const auto* mul = sole_producer_node(g, erf->inputs[0], OpType::Mul);
    ValueId x = kNoValue;
    const Node* scale = nullptr;
    if (div && div->inputs.size() == 2 &&
        gelu_constant_is(g, div->inputs[1], std::sqrt(2.0), gelu_rank(g, div->inputs[0]))) {
      x = div->inputs[0];
      scale = div;
    } else if (mul && mul->inputs.size() == 2) {
      for (std::size_t k = 0; k < 2 && x == kNoValue; ++k) {
        if (gelu_constant_is(g, mul->inputs[1 - k], 1.0 / std::sqrt(2.0), gelu_rank(g, mul->inputs[k]))) {
          x = mul->inputs[k];
          scale = mul;
        }
      }
    }
    if (x == kNoValue || g.value(x).dtype != DType::Float32) continue;
    removed[0] = g.value(scale->outputs[0]).producer;
    removed[1] = g.value(erf->outputs[0]).producer;
    removed[2] = g.value(add->outputs[0]).producer;
    return x;
  }
  return kNoValue;
}

// The pattern whose outer Mul is node `id`.
std::optional<GeluMatch> match_gelu(const Graph& g, NodeId id) {
  const auto& outer = g.node(id);
  if (outer.op != OpType::Mul || outer.inputs.size() != 2 || !outer.post_ops.empty()) return std::nullopt;
  if (g.value(outer.outputs[0]).dtype != DType::Float32) return std::nullopt;
  for (std::size_t i = 0; i < 2; ++i) {
    const auto* inner = sole_producer_node(g, outer.inputs[i], OpType::Mul);
    if (!inner || inner->inputs.size() != 2) continue;
    // The three factors: the outer Mul's other operand and the inner Mul's two.
    const std::array<ValueId, 3> f{outer.inputs[1 - i], inner->inputs[0], inner->inputs[1]};
    for (std::size_t half = 0; half < 3; ++half) {
      for (std::size_t sum = 0; sum < 3; ++sum) {
        if (sum == half) continue;
        const auto x = f[3 - half - sum];
        if (!gelu_constant_is(g, f[half], 0.5, gelu_rank(g, x))) continue;
        GeluMatch m;
        if (gelu_erf_input(g, f[sum], m.removed) != x) continue;
        m.x = x;
        m.removed[3] = g.value(inner->outputs[0]).producer;
        return m;
      }
    }
  }
  return std::nullopt;
}

class FuseGelu final : public Pass {
 public:
  [[nodiscard]] std::string_view name() const override { return "fuse_gelu"; }

  [[nodiscard]] bool match(const Graph& g, NodeId id) const override { return match_gelu(g, id).has_value(); }

  void apply(Graph& g, NodeId id) const override {
    const auto m = *match_gelu(g, id);
    for (auto r : m.removed) g.remove_node(r);
    g.set_inputs(id, {m.x});
    auto& gelu = g.node(id);
    gelu.op = OpType::Gelu;
    gelu.attrs = {};
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_gelu() { return std::make_unique<FuseGelu>(); }

}  // namespace pt2onnx::runtime
