// Gemm and MatMul: their shape rules and batch rows.
#include "runtime/ops/matmul.h"

#include <fmt/format.h>

#include "runtime/op_util.h"
#include "runtime/shape_inference.h"

namespace pt2onnx::runtime {

std::vector<OutputInfo> infer_gemm(const Graph& g, const Node& n) {
  expect_arity(n, 2, 3);
  const auto& a = input_dims(g, n, 0);
  const auto& b = input_dims(g, n, 1);
  if (!a || !b) return {{DType::Float32, std::nullopt}};
  if (a->size() != 2 || b->size() != 2) {
    throw_error(ErrorKind::BadInput,
                fmt::format("A {} and B {} must be matrices", dims_to_string(*a), dims_to_string(*b)));
  }
  const bool ta = n.attrs.get_int("transA", 0) != 0;
  const bool tb = n.attrs.get_int("transB", 0) != 0;
  const Dim m = (*a)[ta ? 1 : 0];
  const Dim ka = (*a)[ta ? 0 : 1];
  const Dim kb = (*b)[tb ? 1 : 0];
  const Dim nn = (*b)[tb ? 0 : 1];
  if (ka.is_known() && kb.is_known() && ka.value() != kb.value()) {
    throw_error(ErrorKind::BadInput, fmt::format("A {} and B {} (transA {}, transB {}) disagree on K",
                                                 dims_to_string(*a), dims_to_string(*b), ta ? 1 : 0, tb ? 1 : 0));
  }
  const Dims out{m, nn};
  const auto c = optional_input(n, 2);
  if (c != kNoValue && g.value(c).dims) {
    const auto bc = broadcast_dims(*g.value(c).dims, out);
    if (bc.size() != 2 || (out[0].is_known() && !bc[0].same_as(out[0])) ||
        (out[1].is_known() && !bc[1].same_as(out[1]))) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("C {} does not broadcast to {}", dims_to_string(*g.value(c).dims), dims_to_string(out)));
    }
  }
  return {{DType::Float32, out}};
}

// Row-wise when A's rows are the batch's and B (and C) are constants.
BatchRows gemm_batch_rows(const Graph& g, const Node& n) {
  const bool apart = n.attrs.get_int("transA", 0) == 0 && g.is_constant(n.inputs[1]) &&
                     (optional_input(n, 2) == kNoValue || g.is_constant(n.inputs[2]));
  return apart ? BatchRows::KeptApart : BatchRows::Mixed;
}

namespace {

// numpy matmul's output dims for operands of rank 1 or more.
Dims matmul_dims(const Dims& a, const Dims& b) {
  if (a.empty() || b.empty()) throw_error(ErrorKind::BadInput, "MatMul inputs must have rank 1 or more");
  // Rank-1 operands are promoted to matrices and the added axis dropped after.
  Dims ea = a.size() == 1 ? Dims{Dim::known(1), a[0]} : a;
  Dims eb = b.size() == 1 ? Dims{b[0], Dim::known(1)} : b;
  const Dim ka = ea.back();
  const Dim kb = eb[eb.size() - 2];
  if (ka.is_known() && kb.is_known() && ka.value() != kb.value()) {
    throw_error(ErrorKind::BadInput, fmt::format("A {} and B {} disagree on K", dims_to_string(a), dims_to_string(b)));
  }
  const Dims batch_a(ea.begin(), ea.end() - 2);
  const Dims batch_b(eb.begin(), eb.end() - 2);
  Dims out = broadcast_dims(batch_a, batch_b);
  if (a.size() != 1) out.push_back(ea[ea.size() - 2]);
  if (b.size() != 1) out.push_back(eb.back());
  return out;
}

}  // namespace

std::vector<OutputInfo> infer_matmul(const Graph& g, const Node& n) {
  expect_arity(n, 2, 2);
  const auto& a = input_dims(g, n, 0);
  const auto& b = input_dims(g, n, 1);
  if (!a || !b) return {{DType::Float32, std::nullopt}};
  return {{DType::Float32, matmul_dims(*a, *b)}};
}

// Softmax(scale * A B + bias) V: the scores' dims, then the output's.
std::vector<OutputInfo> infer_attention(const Graph& g, const Node& n) {
  expect_arity(n, 3, 4);
  const auto& a = input_dims(g, n, 0);
  const auto& k = input_dims(g, n, 1);
  const auto& v = input_dims(g, n, 2);
  if (!a || !k || !v) return {{DType::Float32, std::nullopt}};
  if (a->size() < 2 || k->size() < 2 || v->size() < 2) {
    throw_error(ErrorKind::BadInput, "Attention's operands must have rank 2 or more");
  }
  const auto scores = matmul_dims(*a, *k);
  const auto bias = optional_input(n, 3);
  if (bias != kNoValue && g.value(bias).dims) {
    const auto& bd = *g.value(bias).dims;
    if (bd.size() > scores.size()) throw_error(ErrorKind::BadInput, "the bias has a higher rank than the scores");
    const auto summed = broadcast_dims(scores, bd);
    if (summed.size() != scores.size()) throw_error(ErrorKind::BadInput, "the bias does not broadcast to the scores");
  }
  return {{DType::Float32, matmul_dims(scores, *v)}};
}

BatchRows matmul_batch_rows(const Graph& g, const Node& n) {
  return g.is_constant(n.inputs[1]) && value_rank(g, n.inputs[0]) >= 2 ? BatchRows::KeptApart : BatchRows::Mixed;
}

}  // namespace pt2onnx::runtime
