#include <span>

#include <fmt/format.h>

#include "runtime/kernels/kernels.h"

namespace pt2onnx::runtime {

std::vector<EltwiseOp> eltwise_ops(const Activation& a) {
  using dnnl::algorithm;
  switch (a.kind) {
    case ActivationKind::Relu:
      return {{algorithm::eltwise_relu, 0.0f, 0.0f}};
    case ActivationKind::Clip:
      return {{algorithm::eltwise_clip_v2, a.alpha, a.beta}};
    case ActivationKind::Sigmoid:
      return {{algorithm::eltwise_logistic, 0.0f, 0.0f}};
    // oneDNN 2.6 has no hardsigmoid: max(0, min(1, alpha x + beta)) as linear then clip.
    case ActivationKind::HardSigmoid:
      return {{algorithm::eltwise_linear, a.alpha, a.beta}, {algorithm::eltwise_clip_v2, 0.0f, 1.0f}};
    // ONNX HardSwish is x * max(0, min(1, x/6 + 1/2)), oneDNN's exactly.
    case ActivationKind::HardSwish:
      return {{algorithm::eltwise_hardswish, 0.0f, 0.0f}};
    case ActivationKind::Swish:
      return {{algorithm::eltwise_swish, 1.0f, 0.0f}};
    // x * 0.5 * (1 + erf(x / sqrt(2))), the exact (not the tanh) GELU.
    case ActivationKind::Gelu:
      return {{algorithm::eltwise_gelu_erf, 0.0f, 0.0f}};
    case ActivationKind::Tanh:
      return {{algorithm::eltwise_tanh, 0.0f, 0.0f}};
  }
  return {};
}

dnnl::post_ops make_post_ops(const Node& n) { return make_post_ops(n, n.post_ops.size()); }

dnnl::post_ops make_post_ops(const Node& n, std::size_t count) {
  dnnl::post_ops ops;
  for (const auto& p : std::span(n.post_ops).first(count)) {
    if (p.kind == PostOpKind::Bias) continue;  // the primitive's own bias argument
    if (p.kind == PostOpKind::Sum) {
      ops.append_sum(1.0f);
      continue;
    }
    for (const auto& e : eltwise_ops(p.activation)) ops.append_eltwise(1.0f, e.alg, e.alpha, e.beta);
  }
  return ops;
}

std::size_t fusable_post_ops(const Node& n) {
  const auto count = n.post_ops.size();
  const bool last_swish = count > 0 && n.post_ops.back().kind == PostOpKind::Activation &&
                          n.post_ops.back().activation.kind == ActivationKind::Swish;
  return last_swish && own_loops_available() ? count - 1 : count;
}

namespace {

// Whether md's elements fill its buffer from the first byte with no gaps
// (blocked layouts count, their channel padding included): a loop over
// get_size() floats then touches exactly the tensor. A view (a transposed,
// sliced or offset md over a larger buffer) does not.
bool fills_its_buffer(const memory::desc& md) {
  std::size_t elements = 1;
  for (int i = 0; i < md.data.ndims; ++i) elements *= static_cast<std::size_t>(md.data.padded_dims[i]);
  return md.data.offset0 == 0 && md.data.data_type == dnnl_f32 && md.get_size() == elements * sizeof(float);
}

}  // namespace

void add_eltwise_steps(PlanBuilder& b, const std::vector<EltwiseOp>& ops, SlotId src, SlotId dst) {
  auto from = src;
  for (const auto& e : ops) {
    // Elementwise over the whole buffer, padding included (oneDNN's
    // primitives leave it zero, and SiLU(0) is 0), where both sides share one
    // layout that fills its buffer.
    if (e.alg == dnnl::algorithm::eltwise_swish && e.alpha == 1.0f && own_loops_available() &&
        b.slot_md(from) == b.slot_md(dst) && fills_its_buffer(b.slot_md(dst))) {
      const auto count = static_cast<std::int64_t>(b.slot_md(dst).get_size() / sizeof(float));
      b.add_custom(
          [from, dst, count](const SlotMemories& m) {
            silu(static_cast<const float*>(m[static_cast<std::size_t>(from)].get_data_handle()),
                 static_cast<float*>(m[static_cast<std::size_t>(dst)].get_data_handle()), count);
          },
          {from}, {dst});
      from = dst;
      continue;
    }
    dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, e.alg, b.slot_md(from), e.alpha, e.beta);
    dnnl::eltwise_forward::primitive_desc pd(d, b.attr(), b.engine());
    b.add_primitive(dnnl::eltwise_forward(pd), pd, {{DNNL_ARG_SRC, from}, {DNNL_ARG_DST, dst}});
    from = dst;
  }
}

void apply_post_ops_separately(PlanBuilder& b, const Node& n, SlotId dst, std::size_t first) {
  for (const auto& p : std::span(n.post_ops).subspan(first)) {
    if (p.kind == PostOpKind::Bias) continue;  // the primitive's own bias argument
    if (p.kind == PostOpKind::Activation) {
      add_eltwise_steps(b, eltwise_ops(p.activation), dst, dst);
      continue;
    }
    const auto other = b.in_layout(n.inputs[p.sum_input], b.slot_md(dst));
    dnnl::binary::desc d(dnnl::algorithm::binary_add, b.slot_md(dst), b.slot_md(other), b.slot_md(dst));
    dnnl::binary::primitive_desc pd(d, b.attr(), b.engine());
    b.add_primitive(dnnl::binary(pd), pd, {{DNNL_ARG_SRC_0, dst}, {DNNL_ARG_SRC_1, other}, {DNNL_ARG_DST, dst}});
  }
}

}  // namespace pt2onnx::runtime
