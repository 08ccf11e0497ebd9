#include "runtime/batch_split.h"

#include <algorithm>

#include "runtime/op_util.h"

namespace pt2onnx::runtime {
namespace {

bool led_by(const Graph& g, ValueId v, int symbol) {
  const auto& dims = g.value(v).dims;
  return dims && !dims->empty() && (*dims)[0].is_symbol() && (*dims)[0].symbol_id() == symbol;
}

// Whether a node computes row i of its outputs from row i of its computed inputs only.
bool row_wise(const Graph& g, const Node& n, int symbol) {
  const auto rank = [&](ValueId v) { return static_cast<std::int64_t>(g.value(v).dims->size()); };
  switch (n.op) {
    case OpType::Conv:
    case OpType::BatchNormalization:
    case OpType::Relu:
    case OpType::Clip:
    case OpType::Sigmoid:
    case OpType::HardSigmoid:
    case OpType::HardSwish:
    case OpType::Swish:
    case OpType::Gelu:
    case OpType::Erf:
    case OpType::GlobalAveragePool:
    case OpType::AveragePool:
    case OpType::MaxPool:
    case OpType::Pad:
    case OpType::Flatten:
    case OpType::Reshape:  // row-major with dim 0 kept: each row keeps its elements
    case OpType::Squeeze:
    case OpType::Unsqueeze:
    case OpType::Identity:
    case OpType::Dropout:
      break;
    case OpType::Add:
    case OpType::Sub:
    case OpType::Mul:
    case OpType::Div:
      // A constant operand broadcasts over the batch only if it has no batch rows of its own.
      for (auto in : n.inputs) {
        if (g.is_constant(in) && g.value(in).dims && rank(in) == rank(n.outputs[0]) && !(*g.value(in).dims)[0].is(1)) {
          return false;
        }
      }
      break;
    case OpType::Softmax:
      return normalize_axis(n.attrs.get_int("axis", -1), rank(n.inputs[0]), "axis") != 0;
    case OpType::Concat:
      return normalize_axis(n.attrs.get_int("axis", 0), rank(n.outputs[0]), "axis") != 0;
    case OpType::Gemm:
      return n.attrs.get_int("transA", 0) == 0 && g.is_constant(n.inputs[1]) &&
             (optional_input(n, 2) == kNoValue || g.is_constant(n.inputs[2]));
    case OpType::MatMul:
      return g.is_constant(n.inputs[1]) && rank(n.inputs[0]) >= 2;
    case OpType::Transpose:
      if (transpose_perm(n, static_cast<std::size_t>(rank(n.inputs[0])))[0] != 0) return false;
      break;
    case OpType::ReduceMean: {
      const auto axes = reduce_axes(g, n, static_cast<std::size_t>(rank(n.inputs[0])));
      if (!axes || (!axes->empty() && axes->front() == 0)) return false;
      break;
    }
    case OpType::LayerNormalization:
      if (normalize_axis(n.attrs.get_int("axis", -1), rank(n.inputs[0]), "axis") == 0) return false;
      break;
    case OpType::Slice: {  // on a computed float tensor: row-wise unless it slices the batch axis
      const auto p = slice_params(g, n, static_cast<std::size_t>(rank(n.inputs[0])));
      if (!p || std::find(p->axes.begin(), p->axes.end(), 0) != p->axes.end()) return false;
      break;
    }
    case OpType::Gather:  // on a computed float tensor: row-wise unless it picks along the batch axis
      if (!g.is_constant(n.inputs[1]) || normalize_axis(n.attrs.get_int("axis", 0), rank(n.inputs[0]), "axis") == 0) {
        return false;
      }
      break;
    case OpType::Shape:
    case OpType::Cast:
      return false;  // on a computed float tensor (shape ops on shapes are skipped by the caller)
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
