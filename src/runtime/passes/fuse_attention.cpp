// Attention as torch.onnx.export and pt2onnx export write it:
//   MatMul(Softmax(MatMul(A, B) [* or / c] [+ bias], last axis), V)
// with the query (A) or the key (B, or the input of the Transpose giving B)
// scaled by a scalar constant c first. It becomes one Attention node
// (ops/matmul.h) with the scales folded into one factor: its kernel applies
// the scale and the bias to the scores as they are written, runs the softmax
// in place and reads A, B and V where they lie, so the scaled copies, the
// biased copy and the dense copies of transposed operands are not made.
// Every intermediate must be read by the next node only; A, B and V must be
// computed; the bias must be a float32 constant whose dims, leading ones
// aside, are the scores' last dims.
#include <optional>
#include <vector>

#include "runtime/op_util.h"
#include "runtime/passes/pass.h"

namespace pt2onnx::runtime {
namespace {

std::optional<std::size_t> known_rank(const Graph& g, ValueId v) {
  const auto& d = g.value(v).dims;
  if (!d || g.value(v).dtype != DType::Float32) return std::nullopt;
  return d->size();
}

// A Mul or Div of x by a float32 constant holding one value, of rank at most
// x's (broadcasting it changes nothing but the values).
struct ScalarScale {
  NodeId node = kNoNode;
  ValueId x = kNoValue;
  float factor = 1.0f;
};
std::optional<ScalarScale> scalar_scale(const Graph& g, ValueId v) {
  const Node* n = sole_producer_node(g, v, OpType::Mul);
  if (!n) n = sole_producer_node(g, v, OpType::Div);
  if (!n || n->inputs.size() != 2) return std::nullopt;
  for (std::size_t i = 0; i < 2; ++i) {
    if (n->op == OpType::Div && i == 0) continue;  // c / x is not a scale of x
    const auto c = n->inputs[i];
    const auto x = n->inputs[1 - i];
    if (!g.is_constant(c) || g.value(c).dtype != DType::Float32) continue;
    const auto& t = *g.value(c).constant;
    const auto rank = known_rank(g, x);
    if (t.numel() != 1 || !rank || t.rank() > *rank) continue;
    const auto value = static_cast<float>(t.element_as_double(0));
    if (n->op == OpType::Div && value == 0.0f) continue;
    return ScalarScale{g.value(n->outputs[0]).producer, x, n->op == OpType::Div ? 1.0f / value : value};
  }
  return std::nullopt;
}

// A constant float32 bias whose dims, leading ones aside, are the last dims of `scores`.
bool is_trailing_bias(const Graph& g, ValueId bias, ValueId scores) {
  if (!g.is_constant(bias) || g.value(bias).dtype != DType::Float32 || !g.value(bias).dims) return false;
  const auto& bd = *g.value(bias).dims;
  const auto& sd = g.value(scores).dims;
  if (!sd || bd.size() > sd->size()) return false;
  std::size_t first = 0;
  while (first < bd.size() && bd[first].is(1)) ++first;
  const std::size_t offset = sd->size() - bd.size();
  for (std::size_t i = first; i < bd.size(); ++i) {
    if (!(*sd)[offset + i].is_known() || !bd[i].is((*sd)[offset + i].value())) return false;
  }
  return true;
}

struct AttentionMatch {
  ValueId a = kNoValue, b = kNoValue, v = kNoValue, bias = kNoValue;
  float scale = 1.0f;
  std::vector<NodeId> removed;  // the first MatMul, Softmax, the Add and the scales
  // The key scaled before a Transpose: that Transpose then reads `key`.
  NodeId transpose = kNoNode;
  ValueId key = kNoValue;
};

// The pattern whose last MatMul is node `id`.
std::optional<AttentionMatch> match_attention(const Graph& g, NodeId id) {
  const auto& mix = g.node(id);
  if (mix.op != OpType::MatMul || mix.inputs.size() != 2 || !mix.post_ops.empty()) return std::nullopt;
  AttentionMatch m;
  m.v = mix.inputs[1];
  const Node* softmax = sole_producer_node(g, mix.inputs[0], OpType::Softmax);
  if (!softmax) return std::nullopt;
  const auto rank = known_rank(g, softmax->inputs[0]);
  // The last axis means the same before and after opset 13.
  if (!rank || *rank < 2) return std::nullopt;
  const auto axis = softmax->attrs.get_int("axis", g.opset >= 13 ? -1 : 1);
  if (axis != -1 && axis != static_cast<std::int64_t>(*rank) - 1) return std::nullopt;
  m.removed.push_back(g.value(softmax->outputs[0]).producer);
  ValueId x = softmax->inputs[0];
  if (const Node* add = sole_producer_node(g, x, OpType::Add); add && add->inputs.size() == 2) {
    for (std::size_t i = 0; i < 2 && m.bias == kNoValue; ++i) {
      if (is_trailing_bias(g, add->inputs[1 - i], x) && known_rank(g, add->inputs[i]) == rank) {
        m.bias = add->inputs[1 - i];
        m.removed.push_back(g.value(add->outputs[0]).producer);
        x = add->inputs[i];
      }
    }
  }
  if (auto s = scalar_scale(g, x)) {
    m.scale *= s->factor;
    m.removed.push_back(s->node);
    x = s->x;
  }
  const Node* scores = sole_producer_node(g, x, OpType::MatMul);
  if (!scores || scores->inputs.size() != 2) return std::nullopt;
  m.removed.push_back(g.value(scores->outputs[0]).producer);
  m.a = scores->inputs[0];
  m.b = scores->inputs[1];
  if (auto s = scalar_scale(g, m.a)) {
    m.scale *= s->factor;
    m.removed.push_back(s->node);
    m.a = s->x;
  }
  if (auto s = scalar_scale(g, m.b)) {
    m.scale *= s->factor;
    m.removed.push_back(s->node);
    m.b = s->x;
  } else if (const Node* t = sole_producer_node(g, m.b, OpType::Transpose); t && !t->inputs.empty()) {
    if (auto ts = scalar_scale(g, t->inputs[0])) {
      m.scale *= ts->factor;
      m.removed.push_back(ts->node);
      m.transpose = g.value(t->outputs[0]).producer;
      m.key = ts->x;
    }
  }
  // Computed operands only: a constant one is a Linear's weight, not attention.
  for (auto v : {m.a, m.b, m.v}) {
    const auto r = known_rank(g, v);
    if (!r || *r < 2 || g.is_constant(v)) return std::nullopt;
  }
  return m;
}

class FuseAttention final : public Pass {
 public:
  [[nodiscard]] std::string_view name() const override { return "fuse_attention"; }

  [[nodiscard]] bool match(const Graph& g, NodeId id) const override { return match_attention(g, id).has_value(); }

  void apply(Graph& g, NodeId id) const override {
    const auto m = *match_attention(g, id);
    for (auto r : m.removed) g.remove_node(r);
    if (m.transpose != kNoNode) g.set_input(m.transpose, 0, m.key);
    std::vector<ValueId> inputs{m.a, m.b, m.v};
    if (m.bias != kNoValue) inputs.push_back(m.bias);
    g.set_inputs(id, std::move(inputs));
    auto& attention = g.node(id);
    attention.op = OpType::Attention;
    attention.attrs = {};
    attention.attrs.set_float("scale", m.scale);
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_attention() { return std::make_unique<FuseAttention>(); }

}  // namespace pt2onnx::runtime
