// Gemm and MatMul through oneDNN's matmul primitive. Constant weights are
// given to the primitive in the layout it prefers (reordered once); a
// transposed operand is a strided view, never a copy. Gemm's alpha is folded
// into a constant B, its C becomes the bias when it is a row vector and a
// binary post-op otherwise. Attention (fuse_attention) is two matmuls around
// a softmax in place, reading its operands where they lie.

#include <span>

#include <fmt/format.h>

#include "pt2onnx/tensor.h"
#include "runtime/kernels/kernels.h"
#include "runtime/op_util.h"
#include "runtime/threads.h"

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

// The dims of a batched product of [..., m, k] and [..., k, n], both of the same rank.
std::vector<std::int64_t> product_dims(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b) {
  std::vector<std::int64_t> d(a.size());
  for (std::size_t i = 0; i + 2 < a.size(); ++i) d[i] = std::max(a[i], b[i]);
  d[a.size() - 2] = a[a.size() - 2];
  d[a.size() - 1] = b.back();
  return d;
}

// An operand of a batched matmul with `dims`: a value, used where it lies (a
// Transpose's or Gather's strided view, no copy) or as a dense copy when only
// oneDNN's reference implementation takes that layout; or a dense slot.
struct Operand {
  ValueId value = kNoValue;
  std::vector<std::int64_t> dims;
  SlotId slot = kNoSlot;

  [[nodiscard]] SlotId where_it_lies(PlanBuilder& b) const {
    if (slot != kNoSlot) return slot;
    return b.shape(value) == dims && is_unblocked(b.slot_md(b.slot(value))) ? b.slot(value) : dense(b);
  }
  [[nodiscard]] SlotId dense(PlanBuilder& b) const { return slot != kNoSlot ? slot : b.reshaped(value, dims); }
};

// dst = a w with post-ops `ops` (whose arguments are `extra`): oneDNN's matmul
// on the operands where they lie when its fast implementation takes them.
void add_batched_matmul(PlanBuilder& b, const Operand& a, const Operand& w, const std::vector<std::int64_t>& dims,
                        SlotId dst, const dnnl::post_ops& ops, std::vector<std::pair<int, SlotId>> extra) {
  auto attr = b.attr();
  attr.set_post_ops(ops);
  auto make = [&](SlotId sa, SlotId sw) {
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(b.slot_md(sa), b.slot_md(sw), plain_md(dims)), attr,
                                        b.engine());
  };
  SlotId sa = a.where_it_lies(b), sw = w.where_it_lies(b);
  dnnl::matmul::primitive_desc pd;
  if (!try_create([&] { pd = make(sa, sw); }) || is_reference(pd)) {
    sa = a.dense(b);
    sw = w.dense(b);
    pd = make(sa, sw);
  }
  extra.insert(extra.begin(), {{DNNL_ARG_SRC, sa}, {DNNL_ARG_WEIGHTS, sw}, {DNNL_ARG_DST, dst}});
  b.add_primitive(dnnl::matmul(pd), pd, std::move(extra));
}

// dst[1, n] = src[1, k] W + bias as the engine's own matrix-vector loop
// (gemv.cpp), `weights` a row-major [n, k] constant; bias has n values or none.
void add_gemv(PlanBuilder& b, SlotId src, SlotId weights, std::vector<float> bias, SlotId dst, std::int64_t n,
              std::int64_t k) {
  b.add_custom(
      [src, weights, bias = std::move(bias), dst, n, k](const SlotMemories& m) {
        auto data = [&m](SlotId s) { return static_cast<float*>(m[static_cast<std::size_t>(s)].get_data_handle()); };
        gemv(data(weights), data(src), bias.empty() ? nullptr : bias.data(), data(dst), n, k);
      },
      {src, weights}, {dst});
}

// [k, n] seen over a row-major [n, k] buffer: a constant weight's layout for gemv.
memory::desc gemv_weights_md(std::int64_t k, std::int64_t n) { return transposed_md(n, k); }

// A constant that broadcasts to a row of n (n values or one), times scale.
std::vector<float> row_of(std::span<const float> c, std::int64_t n, float scale) {
  std::vector<float> row(static_cast<std::size_t>(n));
  for (std::size_t j = 0; j < row.size(); ++j) row[j] = scale * c[c.size() == 1 ? 0 : j];
  return row;
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
  const bool use_c = c != kNoValue && beta != 0.0f;
  // The constant weight in `md`, alpha folded in.
  auto constant_weights = [&](const memory::desc& md) {
    if (!fold_alpha) return b.constant(w, w_src_md, md);
    auto scaled = *g.value(w).constant;
    for (auto& v : scaled.f32()) v *= alpha;
    return b.derived_constant(std::move(scaled), w_src_md, md);
  };

  // One row by a constant weight (batch 1, or one image of a split batch):
  // the engine's matrix-vector loop, alpha folded into the weight and beta C
  // into its bias, the post-ops after it.
  if (m == 1 && !ta && w_const && !g.is_constant(a) && (!use_c || g.is_constant(c)) && own_loops_available()) {
    const auto weights = constant_weights(gemv_weights_md(k, nn));
    const auto bias = use_c ? row_of(g.value(c).constant->f32(), nn, beta) : std::vector<float>();
    const auto dst = b.new_slot(plain_md({1, nn}), g.value(out).name);
    add_gemv(b, b.plain(a), weights, bias, dst, nn, k);
    apply_post_ops_separately(b, n, dst);
    b.define(out, dst);
    return;
  }

  // C * beta: as bias (a row, or a scalar), or as a post-op addend.
  dnnl::post_ops ops;
  std::optional<SlotId> bias, addend;
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

  const auto weights = w_const ? constant_weights(pd.weights_desc()) : b.view(b.plain(w), w_src_md);
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
  const auto ds = product_dims(as, ws);

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
  if (rank == 2 && as[0] == 1 && w_const && !g.is_constant(a) && own_loops_available()) {
    const auto dst = b.new_slot(plain_md(ds), g.value(out).name);
    add_gemv(b, b.reshaped(a, as), b.constant(w, plain_md(ws), gemv_weights_md(ws[0], ws[1])),
             bias == kNoValue ? std::vector<float>() : row_of(g.value(bias).constant->f32(), ws[1], 1.0f), dst, ws[1],
             ws[0]);
    apply_post_ops_separately(b, n, dst);
    b.define(out, plain_md(ys) == b.slot_md(dst) ? dst : b.view(dst, plain_md(ys)));
    return;
  }
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

namespace pt2onnx::runtime {

// softmax(scale * A B + bias) V over the last axis: the scores S = A B with
// the scale (and the bias, where oneDNN's fast matmul takes it) as
// post-ops, the softmax in place on S, then S V. A bias oneDNN's matmul does
// not take is added to S by a row loop: fuse_attention passes only a bias
// whose dims, leading ones aside, are the scores' last ones.
void build_attention(PlanBuilder& b, const Node& n) {
  const auto& g = b.graph();
  const auto a = n.inputs[0], k = n.inputs[1], v = n.inputs[2];
  const auto bias = optional_input(n, 3);
  const float scale = n.attrs.get_float("scale", 1.0f);
  const auto rank = std::max({b.shape(a).size(), b.shape(k).size(), b.shape(v).size()});
  const auto as = with_leading_ones(b.shape(a), rank);
  const auto ks = with_leading_ones(b.shape(k), rank);
  const auto vs = with_leading_ones(b.shape(v), rank);
  const auto sd = product_dims(as, ks);
  const auto od = product_dims(sd, vs);
  const auto out = n.outputs[0];
  const auto scores = b.new_slot(plain_md(sd), g.value(out).name + "/scores");

  // dnnl::post_ops is a handle: each chain is built on its own.
  const auto scaling = [scale] {
    dnnl::post_ops ops;
    if (scale != 1.0f) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_linear, scale, 0.0f);
    return ops;
  };
  auto ops = scaling();
  std::vector<std::pair<int, SlotId>> extra;
  SlotId loop_bias = kNoSlot;
  if (bias != kNoValue) {
    const auto bmd = plain_md(with_leading_ones(b.shape(bias), rank));
    const auto bslot = b.constant(bias, bmd, bmd);
    auto with_bias = scaling();
    with_bias.append_binary(dnnl::algorithm::binary_add, bmd);
    auto attr = b.attr();
    attr.set_post_ops(with_bias);
    // oneDNN 2.6's fast matmul takes a bias broadcast over the first axis only.
    dnnl::matmul::primitive_desc probe;
    if (try_create([&] {
          probe = dnnl::matmul::primitive_desc(dnnl::matmul::desc(plain_md(as), plain_md(ks), plain_md(sd)), attr,
                                               b.engine());
        }) &&
        !is_reference(probe)) {
      ops = with_bias;
      extra.emplace_back(DNNL_ARG_ATTR_MULTIPLE_POST_OP(scale != 1.0f ? 1 : 0) | DNNL_ARG_SRC_1, bslot);
    } else {
      loop_bias = bslot;
    }
  }
  add_batched_matmul(b, Operand{a, as, kNoSlot}, Operand{k, ks, kNoSlot}, sd, scores, ops, std::move(extra));
  if (loop_bias != kNoSlot) {
    const auto inner = shape_numel(b.shape(bias));
    const auto outer = shape_numel(sd) / std::max<std::int64_t>(inner, 1);
    b.add_custom(
        [scores, loop_bias, inner, outer](const SlotMemories& m) {
          auto* s = static_cast<float*>(m[static_cast<std::size_t>(scores)].get_data_handle());
          const auto* add = static_cast<const float*>(m[static_cast<std::size_t>(loop_bias)].get_data_handle());
          parallel_for(outer, [&](std::int64_t o) {
            float* row = s + o * inner;
            for (std::int64_t i = 0; i < inner; ++i) row[i] += add[i];
          });
        },
        {scores, loop_bias}, {scores});
  }

  dnnl::softmax_forward::desc sm(dnnl::prop_kind::forward_inference, plain_md(sd), static_cast<int>(rank - 1));
  dnnl::softmax_forward::primitive_desc smpd(sm, b.attr(), b.engine());
  b.add_primitive(dnnl::softmax_forward(smpd), smpd, {{DNNL_ARG_SRC, scores}, {DNNL_ARG_DST, scores}});

  const auto dst = b.new_slot(plain_md(od), g.value(out).name);
  add_batched_matmul(b, Operand{kNoValue, sd, scores}, Operand{v, vs, kNoSlot}, od, dst, dnnl::post_ops(), {});
  const auto ys = b.shape(out);
  b.define(out, ys == od ? dst : b.view(dst, plain_md(ys)));
}

}  // namespace pt2onnx::runtime
