// Standalone activations, Erf and BatchNormalization (with a ReLU after it in
// the same pass): they keep their input's layout and overwrite its buffer
// when the input dies here. oneDNN 2.6
// has no erf, so Erf is a loop over std::erf; the GELU it usually belongs to
// becomes one Gelu (oneDNN's eltwise_gelu_erf) in the fuse_gelu pass.
#include <array>
#include <cmath>
#include <span>

#include <fmt/format.h>

#include "runtime/kernels/channels_last.h"
#include "runtime/kernels/kernels.h"
#include "runtime/op_util.h"
#include "runtime/passes/pass.h"
#include "runtime/threads.h"

namespace pt2onnx::runtime {
namespace {

// The node's output buffer: its input's when that dies here, else a new one.
SlotId output_slot(PlanBuilder& b, ValueId in, ValueId out, const memory::desc& md) {
  if (b.dies_here(in) && b.md(in) == md) return b.slot(in);
  return b.new_slot(md, b.graph().value(out).name);
}

void erf_values(const float* in, float* out, std::int64_t count) {
  parallel_for(count, [&](std::int64_t i) { out[i] = std::erf(in[i]); });
}

}  // namespace

void build_activation(PlanBuilder& b, const Node& n) {
  const auto act = activation_of(b.graph(), n);
  if (!act) throw_error(ErrorKind::Unsupported, "Clip bounds must be constants");
  const auto x = n.inputs[0];
  const auto src = b.slot(x);
  const auto dst = output_slot(b, x, n.outputs[0], b.slot_md(src));
  add_eltwise_steps(b, eltwise_ops(*act), src, dst);
  b.define(n.outputs[0], dst);
}

void build_batch_norm(PlanBuilder& b, const Node& n) {
  const auto x = n.inputs[0];
  const auto xs = b.shape(x);
  const auto channels = xs.at(1);
  const auto epsilon = n.attrs.get_float("epsilon", 1e-5f);
  // A ReLU after it (DenseNet's BatchNorm, ReLU, Conv, on every concatenation)
  // is applied in the same pass; other activations run after it.
  const bool relu = post_ops_are_one_relu(n);
  auto flags = dnnl::normalization_flags::use_global_stats | dnnl::normalization_flags::use_scale |
               dnnl::normalization_flags::use_shift;
  if (relu) flags |= dnnl::normalization_flags::fuse_norm_relu;
  dnnl::batch_normalization_forward::desc d(dnnl::prop_kind::forward_inference, b.md(x), epsilon, flags);
  dnnl::batch_normalization_forward::primitive_desc pd(d, b.attr(), b.engine());
  const auto param = plain_md({channels});
  const auto scale = b.constant(n.inputs[1], param, pd.weights_desc());
  const auto shift = b.constant(n.inputs[2], param, pd.weights_desc());
  const auto mean = b.constant(n.inputs[3], param, pd.mean_desc());
  const auto var = b.constant(n.inputs[4], param, pd.variance_desc());
  const auto src = b.slot(x);
  const auto dst = output_slot(b, x, n.outputs[0], pd.dst_desc());
  b.add_primitive(dnnl::batch_normalization_forward(pd), pd,
                  {{DNNL_ARG_SRC, src},
                   {DNNL_ARG_SCALE, scale},
                   {DNNL_ARG_SHIFT, shift},
                   {DNNL_ARG_MEAN, mean},
                   {DNNL_ARG_VARIANCE, var},
                   {DNNL_ARG_DST, dst}});
  if (!relu) apply_post_ops_separately(b, n, dst);
  b.define(n.outputs[0], dst);
}

void build_normalized_concat(PlanBuilder& b, const Node& n) {
  const std::size_t count = n.inputs.size() - 4;
  const auto out = n.outputs[0];
  const auto ys = b.shape(out);
  if (ys.size() != 4 || count > kMaxConcatPieces) {
    throw_error(ErrorKind::Internal, "NormalizedConcat of a tensor that is not 4-D, or of too many pieces");
  }
  // x * a + b with a = scale / sqrt(var + epsilon), b = B - mean * a, in
  // double, as fold_batch_norm folds them into a convolution.
  const auto epsilon = static_cast<double>(n.attrs.get_float("epsilon", 1e-5f));
  const auto& g = b.graph();
  const auto scale = g.value(n.inputs[count]).constant->f32();
  const auto shift = g.value(n.inputs[count + 1]).constant->f32();
  const auto mean = g.value(n.inputs[count + 2]).constant->f32();
  const auto var = g.value(n.inputs[count + 3]).constant->f32();
  std::vector<float> a(scale.size()), c(scale.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double s = static_cast<double>(scale[i]) / std::sqrt(static_cast<double>(var[i]) + epsilon);
    a[i] = static_cast<float>(s);
    c[i] = static_cast<float>(static_cast<double>(shift[i]) - static_cast<double>(mean[i]) * s);
  }
  const bool relu = post_ops_are_one_relu(n);
  // Every piece and the result channels-last (the convolutions' layout).
  std::vector<SlotId> srcs;
  for (std::size_t i = 0; i < count; ++i) {
    srcs.push_back(
        b.in_layout(n.inputs[i], memory::desc(b.shape(n.inputs[i]), memory::data_type::f32, memory::format_tag::acdb)));
  }
  const auto join = channels_last_join(b, n, std::move(srcs));
  b.add_custom(
      [join, a = std::move(a), c = std::move(c), relu](const SlotMemories& m) {
        join.with_pieces(m, [&](std::span<const ChannelsLastPiece> pieces, float* joined) {
          channels_last_normalized_concat(pieces, a.data(), c.data(), relu, joined, join.pixels, join.total);
        });
      },
      join.srcs, {join.dst});
  if (!relu) apply_post_ops_separately(b, n, join.dst);
  b.define(out, join.dst);
}

void build_erf(PlanBuilder& b, const Node& n) {
  const auto x = n.inputs[0];
  const auto shape = b.shape(x);
  std::int64_t count = 1;
  for (auto d : shape) count *= d;
  // Elementwise, so any dense layout works: plain unless the input is blocked.
  const auto src = is_plain(b.md(x)) || b.md(x).data.format_desc.blocking.inner_nblks == 0 ? b.slot(x) : b.plain(x);
  const auto dst = output_slot(b, x, n.outputs[0], b.slot_md(src));
  b.add_custom(
      [src, dst, count](const SlotMemories& m) {
        erf_values(static_cast<const float*>(m[static_cast<std::size_t>(src)].get_data_handle()),
                   static_cast<float*>(m[static_cast<std::size_t>(dst)].get_data_handle()), count);
      },
      {src}, {dst});
  b.define(n.outputs[0], dst);
}

}  // namespace pt2onnx::runtime
