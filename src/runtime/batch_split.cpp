#include "runtime/batch_split.h"

#include "runtime/op_def.h"

namespace pt2onnx::runtime {
namespace {

bool led_by(const Graph& g, ValueId v, int symbol) {
  const auto& dims = g.value(v).dims;
  return dims && !dims->empty() && (*dims)[0].is_symbol() && (*dims)[0].symbol_id() == symbol;
}

// Whether a node computes row i of its outputs from row i of its computed inputs only.
bool row_wise(const Graph& g, const Node& n, int symbol) {
  switch (op_def(n.op).batch_rows(g, n)) {
    case BatchRows::Mixed:
      return false;
    case BatchRows::KeptApart:
      return true;
    case BatchRows::KeptApartIfInputsBatched:
      break;
  }
  for (auto in : n.inputs) {
    if (in != kNoValue && !g.is_constant(in) && g.value(in).dtype == DType::Float32 && !led_by(g, in, symbol)) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<int> independent_batch_symbol(const Graph& g) {
  if (g.inputs().empty() || g.outputs().empty()) return std::nullopt;
  const auto& first = g.value(g.inputs()[0]).dims;
  if (!first || first->empty() || !(*first)[0].is_symbol()) return std::nullopt;
  const int symbol = (*first)[0].symbol_id();
  for (auto v : g.inputs()) {
    if (!led_by(g, v, symbol)) return std::nullopt;
  }
  for (auto v : g.outputs()) {
    if (!led_by(g, v, symbol) || g.value(v).dtype != DType::Float32) return std::nullopt;
  }
  for (auto id : g.order()) {
    const auto& n = g.node(id);
    bool computes_floats = false;
    for (auto out : n.outputs) {
      if (g.value(out).dtype != DType::Float32) continue;
      computes_floats = true;
      if (!led_by(g, out, symbol)) return std::nullopt;
    }
    // Shape arithmetic (on int64 shapes) is folded once the batch is known.
    if (!computes_floats && is_shape_op(n.op)) continue;
    if (!row_wise(g, n, symbol)) return std::nullopt;
  }
  return symbol;
}

bool batch_split_pays(const Graph& g) {
  // Past the last level cache's share of a core or two: read from memory.
  constexpr std::size_t kStreamedWeightBytes = std::size_t{8} << 20;
  for (auto id : g.order()) {
    const auto& n = g.node(id);
    if ((n.op != OpType::Gemm && n.op != OpType::MatMul) || !g.is_constant(n.inputs[1])) continue;
    const auto& a = g.value(n.inputs[0]).dims;
    if (!a || a->size() < 2) continue;
    // The rows of one image: the dims between the batch and the last.
    bool one_row = true;
    for (std::size_t i = 1; i + 1 < a->size(); ++i) one_row = one_row && (*a)[i].is(1);
    const auto& weight = g.value(n.inputs[1]).constant;
    if (one_row && weight && weight->nbytes() >= kStreamedWeightBytes) return false;
  }
  return true;
}

}  // namespace pt2onnx::runtime
