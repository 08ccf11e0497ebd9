// ReduceMean through oneDNN's pooling when it averages the spatial axes of
// [N, C, spatial...] (x.mean([2, 3]), the head of MNASNet and ShuffleNet:
// oneDNN 2.6's reduction has only its reference loop, 15% of MNASNet's time),
// else through oneDNN's reduction; LayerNormalization through its
// layer normalization (statistics in float32, as stash_type 1 asks). Layer
// normalization works on the last axis, so the input is seen as
// [outer, inner] with inner the product of the normalised axes.
#include <fmt/format.h>

#include "runtime/kernels/kernels.h"
#include "runtime/op_util.h"

namespace pt2onnx::runtime {
namespace {

std::int64_t reductions_product(const std::vector<std::int64_t>& dims, std::size_t begin, std::size_t end) {
  std::int64_t n = 1;
  for (auto i = begin; i < end; ++i) n *= dims[i];
  return n;
}

// A LayerNormalization parameter (Scale or B, a constant) broadcast to the
// normalised shape, as `inner` values.
Tensor layer_norm_parameter(const Tensor& t, const std::vector<std::int64_t>& normalized) {
  const auto rank = normalized.size();
  auto dims = t.shape();
  while (dims.size() < rank) dims.insert(dims.begin(), 1);
  const auto inner = reductions_product(normalized, 0, rank);
  Tensor out(DType::Float32, {inner});
  const auto src = t.f32();
  auto dst = out.f32();
  for (std::int64_t i = 0; i < inner; ++i) {
    std::int64_t rest = i, from = 0, stride = 1;
    for (auto d = rank; d-- > 0;) {
      const auto k = rest % normalized[d];
      rest /= normalized[d];
      from += (dims[d] == 1 ? 0 : k) * stride;
      stride *= dims[d];
    }
    dst[static_cast<std::size_t>(i)] = src[static_cast<std::size_t>(from)];
  }
  return out;
}

}  // namespace

void build_reduce_mean(PlanBuilder& b, const Node& n) {
  const auto x = n.inputs[0];
  const auto out = n.outputs[0];
  const auto xs = b.shape(x);
  const auto ys = b.shape(out);
  const auto axes = reduce_axes(b.graph(), n, xs.size());
  if (!axes) throw_error(ErrorKind::Unsupported, "axes must be known before the run");
  if (axes->empty()) {  // noop_with_empty_axes
    b.define(out, b.reshaped(x, ys));
    return;
  }
  // The reduced shape with the reduced axes kept as 1 (oneDNN's form).
  auto kept = xs;
  for (auto a : *axes) kept[static_cast<std::size_t>(a)] = 1;
  std::vector<std::int64_t> spatial;
  for (std::size_t i = 2; i < xs.size(); ++i) spatial.push_back(static_cast<std::int64_t>(i));
  if (xs.size() >= 3 && xs.size() <= 5 && *axes == spatial) {
    auto dst = add_global_average_pool(b, x, b.graph().value(out).name);
    if (kept != ys && !is_plain(b.slot_md(dst))) {
      const auto copy = b.new_slot(plain_md(kept), b.graph().value(out).name + ".plain");
      b.add_reorder(dst, copy);
      dst = copy;
    }
    b.define(out, kept == ys ? dst : b.view(dst, plain_md(ys)));
    return;
  }
  auto make_pd = [&](const memory::desc& src_md) {
    dnnl::reduction::desc d(dnnl::algorithm::reduction_mean, src_md, plain_md(kept), 0.0f, 0.0f);
    return dnnl::reduction::primitive_desc(d, b.attr(), b.engine());
  };
  auto src = b.slot(x);
  dnnl::reduction::primitive_desc pd;
  if (!try_create([&] { pd = make_pd(b.slot_md(src)); })) {
    src = b.plain(x);
    pd = make_pd(b.slot_md(src));
  }
  const auto dst = b.new_slot(pd.dst_desc(), b.graph().value(out).name);
  b.add_primitive(dnnl::reduction(pd), pd, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
  b.define(out, kept == ys ? dst : b.view(dst, plain_md(ys)));
}

void build_layer_norm(PlanBuilder& b, const Node& n) {
  const auto& g = b.graph();
  const auto x = n.inputs[0];
  const auto out = n.outputs[0];
  const auto xs = b.shape(x);
  const auto axis = static_cast<std::size_t>(
      normalize_axis(n.attrs.get_int("axis", -1), static_cast<std::int64_t>(xs.size()), "axis"));
  const auto outer = reductions_product(xs, 0, axis);
  const auto inner = reductions_product(xs, axis, xs.size());
  const std::vector<std::int64_t> normalized(xs.begin() + static_cast<std::ptrdiff_t>(axis), xs.end());
  const auto scale_in = n.inputs[1];
  const auto bias_in = optional_input(n, 2);
  for (auto v : {scale_in, bias_in}) {
    if (v != kNoValue && !g.is_constant(v)) throw_error(ErrorKind::Unsupported, "Scale and B must be constants");
  }
  auto flags = dnnl::normalization_flags::use_scale;
  if (bias_in != kNoValue) flags |= dnnl::normalization_flags::use_shift;
  const auto src = b.reshaped(x, {outer, inner});
  dnnl::layer_normalization_forward::desc d(dnnl::prop_kind::forward_inference, b.slot_md(src),
                                            n.attrs.get_float("epsilon", 1e-5f), flags);
  dnnl::layer_normalization_forward::primitive_desc pd(d, b.attr(), b.engine());
  const auto param_md = plain_md({inner});
  auto parameter = [&](ValueId v) {
    const auto& t = *g.value(v).constant;
    if (t.numel() == inner) return b.constant(v, param_md, pd.weights_desc());
    return b.derived_constant(layer_norm_parameter(t, normalized), param_md, pd.weights_desc());
  };
  std::vector<std::pair<int, SlotId>> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_SCALE, parameter(scale_in)}};
  if (bias_in != kNoValue) args.emplace_back(DNNL_ARG_SHIFT, parameter(bias_in));
  // In place when the input dies here (src is then its bytes or its only copy).
  const auto dst = b.dies_here(x) ? src : b.new_slot(pd.dst_desc(), g.value(out).name);
  args.emplace_back(DNNL_ARG_DST, dst);
  b.add_primitive(dnnl::layer_normalization_forward(pd), pd, std::move(args));
  b.define(out, b.view(dst, plain_md(xs)));
}

}  // namespace pt2onnx::runtime
