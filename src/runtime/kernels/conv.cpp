// Conv through oneDNN's convolution: layouts left to the primitive
// (format_tag::any), weights reordered once through the weight cache, the
// node's activations and residual sum fused as post-ops.
#include <fmt/format.h>

#include "runtime/geometry.h"
#include "runtime/kernels/kernels.h"
#include "runtime/op_util.h"

namespace pt2onnx::runtime {

namespace {

// A folded squeeze-excitation gate (Node::input_scale) at batch > 1: the
// channel-wise Mul runs as its own step, in place when x dies here.
SlotId scaled_input(PlanBuilder& b, ValueId x, ValueId gate) {
  const auto src = b.slot(x);
  const auto g = b.slot(gate);
  dnnl::binary::desc d(dnnl::algorithm::binary_mul, b.slot_md(src), b.slot_md(g), b.slot_md(src));
  dnnl::binary::primitive_desc pd(d, b.attr(), b.engine());
  const auto dst = b.dies_here(x) ? src : b.new_slot(b.slot_md(src), b.graph().value(x).name + ".scaled");
  b.add_primitive(dnnl::binary(pd), pd, {{DNNL_ARG_SRC_0, src}, {DNNL_ARG_SRC_1, g}, {DNNL_ARG_DST, dst}});
  return dst;
}

}  // namespace

void build_conv(PlanBuilder& b, const Node& n) {
  const auto x = n.inputs[0];
  const auto w = n.inputs[1];
  const auto bias = optional_input(n, 2);
  const auto out = n.outputs[0];
  const auto xs = b.shape(x);
  const auto ws = b.shape(w);
  const auto ys = b.shape(out);
  const auto group = n.attrs.get_int("group", 1);
  const auto geo = window_geometry(n.attrs, {xs.begin() + 2, xs.end()}, {ws.begin() + 2, ws.end()}, false, true);

  // Grouped weights are [G, O/G, I/G, k...] to oneDNN, the same bytes as ONNX's [O, I/G, k...].
  std::vector<std::int64_t> wdims = ws;
  if (group > 1) {
    wdims = {group, ws[0] / group};
    wdims.insert(wdims.end(), ws.begin() + 1, ws.end());
  }
  memory::dims strides, dilations, pad_l, pad_r;
  for (std::size_t i = 0; i < geo.kernel.size(); ++i) {
    strides.push_back(geo.strides[i]);
    dilations.push_back(geo.dilations[i] - 1);  // oneDNN counts the gaps
    pad_l.push_back(geo.pad_begin[i]);
    pad_r.push_back(geo.pad_end[i]);
  }
  const auto bias_md = bias == kNoValue ? memory::desc() : any_md({ws[0]});
  auto make_pd = [&](const dnnl::post_ops& ops) {
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                      any_md(xs), any_md(wdims), bias_md, any_md(ys), strides, dilations, pad_l, pad_r);
    auto attr = b.attr();
    attr.set_post_ops(ops);
    return dnnl::convolution_forward::primitive_desc(d, attr, b.engine());
  };
  dnnl::convolution_forward::primitive_desc pd;
  const bool fused = try_create([&] { pd = make_pd(make_post_ops(n)); });
  if (!fused) pd = make_pd(dnnl::post_ops());

  const auto gate = n.input_scale ? n.inputs[*n.input_scale] : kNoValue;
  // At batch 1 the gate can scale the weights' input channels instead: a
  // reorder of the plain weights with per-channel runtime scales. That moves
  // the weights three times (read, write, the conv's read of the copy) where
  // the Mul moves the activation twice, so it pays while C_out < 2/3 H W:
  // EfficientNet's 112 to 14 pixel stages, not its 7x7 ones.
  const auto pixels = xs[2] * xs[3];
  const bool scale_weights = gate != kNoValue && xs[0] == 1 && 3 * ws[0] < 2 * pixels;
  SlotId src = kNoSlot;
  SlotId weights = kNoSlot;
  if (gate == kNoValue) {
    src = b.in_layout(x, pd.src_desc());
    weights = b.constant(w, plain_md(wdims), pd.weights_desc());
  } else if (scale_weights) {
    src = b.in_layout(x, pd.src_desc());
    auto rattr = b.attr();
    rattr.set_output_scales(1 << 1, {DNNL_RUNTIME_F32_VAL});
    dnnl::reorder::primitive_desc rpd(b.engine(), plain_md(wdims), b.engine(), pd.weights_desc(), rattr);
    const auto plain_weights = b.constant(w, plain_md(wdims), plain_md(wdims));
    const auto scales = b.reshaped(gate, {ws[1]});
    weights = b.new_slot(pd.weights_desc(), b.graph().value(w).name + ".scaled");
    b.add_primitive(dnnl::reorder(rpd), rpd,
                    {{DNNL_ARG_FROM, plain_weights}, {DNNL_ARG_ATTR_OUTPUT_SCALES, scales}, {DNNL_ARG_TO, weights}});
  } else {
    const auto scaled = scaled_input(b, x, gate);
    src = b.slot_md(scaled) == pd.src_desc() ? scaled : b.new_slot(pd.src_desc(), b.graph().value(x).name + ".scaled");
    if (src != scaled) b.add_reorder(scaled, src);
    weights = b.constant(w, plain_md(wdims), pd.weights_desc());
  }
  std::vector<std::pair<int, SlotId>> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}};
  if (bias != kNoValue) args.emplace_back(DNNL_ARG_BIAS, b.constant(bias, plain_md({ws[0]}), pd.bias_desc()));

  // A fused residual sum accumulates into a destination that already holds
  // the other operand: its own buffer when it dies here, else a copy.
  SlotId dst = kNoSlot;
  std::vector<SlotId> extra_reads;
  for (const auto& p : n.post_ops) {
    if (!fused || p.kind != PostOpKind::Sum) continue;
    const auto other = n.inputs[p.sum_input];
    if (b.dies_here(other) && b.md(other) == pd.dst_desc() && !b.same_storage(b.slot(other), src)) {
      dst = b.slot(other);
    } else {
      dst = b.new_slot(pd.dst_desc(), b.graph().value(out).name);
      b.add_reorder(b.slot(other), dst);
    }
    extra_reads.push_back(dst);
  }
  if (dst == kNoSlot) dst = b.new_slot(pd.dst_desc(), b.graph().value(out).name);
  args.emplace_back(DNNL_ARG_DST, dst);
  b.add_primitive(dnnl::convolution_forward(pd), pd, std::move(args), std::move(extra_reads));
  if (!fused) apply_post_ops_separately(b, n, dst);
  b.define(out, dst);
}

}  // namespace pt2onnx::runtime
