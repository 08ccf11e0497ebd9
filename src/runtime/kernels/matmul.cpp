// Gemm and MatMul through oneDNN's matmul primitive. Constant weights are
// given to the primitive in the layout it prefers (reordered once); a
// transposed operand is a strided view, never a copy. Gemm's alpha is folded
// into a constant B, its C becomes the bias when it is a row vector and a
// binary post-op otherwise.
#include <fmt/format.h>

#include "runtime/kernels/kernels.h"
#include "runtime/op_util.h"

namespace pt2onnx::runtime {
namespace {

// Row-major [rows, cols] data seen as its transpose [cols, rows].
memory::desc transposed_md(std::int64_t rows, std::int64_t cols) {
  return memory::desc({cols, rows}, memory::data_type::f32, memory::dims{1, cols});
}

std::vector<std::int64_t> with_leading_ones(std::vector<std::int64_t> s, std::size_t rank) {
  while (s.size() < rank) s.insert(s.begin(), 1);
  return s;
}

}  // namespace

void build_gemm(PlanBuilder& b, const Node& n) {
  const auto& g = b.graph();
  const auto a = n.inputs[0];
  const auto w = n.inputs[1];
  const auto c = optional_input(n, 2);
  const auto out = n.outputs[0];
  const auto as = b.shape(a);
  const auto ws = b.shape(w);
  const auto ys = b.shape(out);
  const bool ta = n.attrs.get_int("transA", 0) != 0;
  const bool tb = n.attrs.get_int("transB", 0) != 0;
  const float alpha = n.attrs.get_float("alpha", 1.0f);
  const float beta = n.attrs.get_float("beta", 1.0f);
  const auto m = ys[0], nn = ys[1];
  const auto k = ta ? as[0] : as[1];

  const auto src_md = ta ? transposed_md(as[0], as[1]) : plain_md({m, k});
  const auto w_src_md = tb ? transposed_md(ws[0], ws[1]) : plain_md({k, nn});
  const bool w_const = g.is_constant(w);
  const bool fold_alpha = alpha != 1.0f && w_const;

  // C * beta: as bias (a row, or a scalar), or as a post-op addend.
  dnnl::post_ops ops;
  std::optional<SlotId> bias, addend;
  const bool use_c = c != kNoValue && beta != 0.0f;
  if (!fold_alpha && alpha != 1.0f) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_linear, alpha, 0.0f);
  std::vector<std::int64_t> cs;
  if (use_c) {
    cs = with_leading_ones(b.shape(c), 2);
    const bool row = cs[0] == 1;
    if (g.is_constant(c)) {
      auto scaled = *g.value(c).constant;
      for (auto& v : scaled.f32()) v *= beta;
      // When alpha is applied as a post-op, the bias (added before post-ops) cannot be used.
      if (row && (fold_alpha || alpha == 1.0f)) {
        const auto bmd = cs[1] == nn ? plain_md({1, nn}) : plain_md(cs);
        bias = b.derived_constant(std::move(scaled), plain_md(cs), bmd);
      } else {
        addend = b.derived_constant(std::move(scaled), plain_md(cs), plain_md(cs));
      }
    } else {
      if (beta != 1.0f) throw_error(ErrorKind::Unsupported, "Gemm with a computed C and beta other than 1");
      addend = b.reshaped(c, cs);
    }
    if (addend) ops.append_binary(dnnl::algorithm::binary_add, b.slot_md(*addend));
  }
  const auto user_ops = make_post_ops(n);
  for (int i = 0; i < user_ops.len(); ++i) {
    dnnl::algorithm alg;
    float scale = 1.0f, ea = 0.0f, eb = 0.0f;
    user_ops.get_params_eltwise(i, scale, alg, ea, eb);
    ops.append_eltwise(scale, alg, ea, eb);
  }
  const auto bias_md = bias ? b.slot_md(*bias) : memory::desc();
  const auto w_md = w_const ? any_md({k, nn}) : w_src_md;
  dnnl::matmul::desc d(src_md, w_md, bias_md, plain_md({m, nn}));
  auto attr = b.attr();
  attr.set_post_ops(ops);
  dnnl::matmul::primitive_desc pd(d, attr, b.engine());

  SlotId weights = kNoSlot;
  if (fold_alpha) {
    auto scaled = *g.value(w).constant;
    for (auto& v : scaled.f32()) v *= alpha;
    weights = b.derived_constant(std::move(scaled), w_src_md, pd.weights_desc());
  } else if (w_const) {
    weights = b.constant(w, w_src_md, pd.weights_desc());
  } else {
    weights = b.view(b.plain(w), w_src_md);
  }
  const auto src = g.is_constant(a) ? b.constant(a, src_md, src_md) : ta ? b.view(b.plain(a), src_md) : b.plain(a);
  const auto dst = b.new_slot(pd.dst_desc(), g.value(out).name);
  std::vector<std::pair<int, SlotId>> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}};
  if (bias) args.emplace_back(DNNL_ARG_BIAS, *bias);
  if (addend)
    args.emplace_back(DNNL_ARG_ATTR_MULTIPLE_POST_OP(alpha != 1.0f && !fold_alpha ? 1 : 0) | DNNL_ARG_SRC_1, *addend);
  b.add_primitive(dnnl::matmul(pd), pd, std::move(args));
  b.define(out, dst);
}

void build_matmul(PlanBuilder& b, const Node& n) {
  const auto& g = b.graph();
  const auto a = n.inputs[0];
  const auto w = n.inputs[1];
  const auto out = n.outputs[0];
  auto as = b.shape(a);
  auto ws = b.shape(w);
  const auto ys = b.shape(out);
  // Rank-1 operands become a row (A) or a column (B); the output drops that axis.
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (ws.size() == 1) ws.push_back(1);
  // A stack of rows times one matrix ([N, H, W, C] x [C, D]) is one product
  // of [N*H*W, C] rows, not N*H products.
  if (ws.size() == 2 && as.size() > 2) {
    std::int64_t rows = 1;
    for (std::size_t i = 0; i + 1 < as.size(); ++i) rows *= as[i];
    as = {rows, as.back()};
  }
  const auto rank = std::max({as.size(), ws.size(), std::size_t{2}});
  as = with_leading_ones(as, rank);
  ws = with_leading_ones(ws, rank);
  auto ds = std::vector<std::int64_t>(rank);
  for (std::size_t i = 0; i + 2 < rank; ++i) ds[i] = std::max(as[i], ws[i]);
  ds[rank - 2] = as[rank - 2];
  ds[rank - 1] = ws[rank - 1];

  // A fused bias (fuse_matmul_bias): a constant [N] broadcast over the rows,
  // the primitive's own bias argument.
  ValueId bias = kNoValue;
  for (const auto& p : n.post_ops) {
    if (p.kind == PostOpKind::Bias) bias = n.inputs[p.sum_input];
  }
  std::vector<std::int64_t> bias_dims(rank, 1);
  bias_dims[rank - 1] = ds[rank - 1];
  const auto bias_md = bias == kNoValue ? memory::desc() : plain_md(bias_dims);

  const bool w_const = g.is_constant(w);
  const auto w_md = w_const ? any_md(ws) : plain_md(ws);
  dnnl::matmul::desc d(plain_md(as), w_md, bias_md, plain_md(ds));
  auto attr = b.attr();
  attr.set_post_ops(make_post_ops(n));
  dnnl::matmul::primitive_desc pd(d, attr, b.engine());
  const auto src = b.reshaped(a, as);
  const auto weights = w_const ? b.constant(w, plain_md(ws), pd.weights_desc()) : b.reshaped(w, ws);
  const auto dst = b.new_slot(pd.dst_desc(), g.value(out).name);
  std::vector<std::pair<int, SlotId>> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}};
  if (bias != kNoValue) args.emplace_back(DNNL_ARG_BIAS, b.constant(bias, bias_md, bias_md));
  b.add_primitive(dnnl::matmul(pd), pd, std::move(args));
  b.define(out, plain_md(ys) == b.slot_md(dst) ? dst : b.view(dst, plain_md(ys)));
}

}  // namespace pt2onnx::runtime
