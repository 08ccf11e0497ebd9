// Concat, Softmax, and the reshapes (Flatten, Reshape, Squeeze, Unsqueeze,
// and Identity/Dropout when remove_identity is off). A reshape is a view of
// its input's bytes in row-major order: free unless the input sits in a
// blocked layout, which is reordered to plain first.
#include <fmt/format.h>

#include "runtime/kernels/kernels.h"
#include "runtime/op_util.h"

namespace pt2onnx::runtime {

void build_reshape(PlanBuilder& b, const Node& n) {
  const auto out = n.outputs[0];
  b.define(out, b.reshaped(n.inputs[0], b.shape(out)));
}

void build_concat(PlanBuilder& b, const Node& n) {
  const auto out = n.outputs[0];
  const auto ys = b.shape(out);
  const auto rank = static_cast<std::int64_t>(ys.size());
  const auto axis = static_cast<int>(normalize_axis(n.attrs.get_int("axis", 0), rank, "axis"));
  auto make_pd = [&](const std::vector<SlotId>& srcs) {
    std::vector<memory::desc> mds;
    for (auto s : srcs) mds.push_back(b.slot_md(s));
    return dnnl::concat::primitive_desc(any_md(ys), axis, mds, b.engine(), b.attr());
  };
  std::vector<SlotId> srcs;
  for (auto in : n.inputs) srcs.push_back(b.slot(in));
  dnnl::concat::primitive_desc pd;
  if (!try_create([&] { pd = make_pd(srcs); })) {
    srcs.clear();
    for (auto in : n.inputs) srcs.push_back(b.plain(in));
    pd = make_pd(srcs);
  }
  const auto dst = b.new_slot(pd.dst_desc(), b.graph().value(out).name);
  std::vector<std::pair<int, SlotId>> args{{DNNL_ARG_DST, dst}};
  for (std::size_t i = 0; i < srcs.size(); ++i) args.emplace_back(DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i), srcs[i]);
  b.add_primitive(dnnl::concat(pd), pd, std::move(args));
  b.define(out, dst);
}

void build_softmax(PlanBuilder& b, const Node& n) {
  const auto x = n.inputs[0];
  const auto out = n.outputs[0];
  const auto xs = b.shape(x);
  const auto rank = static_cast<std::int64_t>(xs.size());
  std::vector<std::int64_t> shape = xs;
  int axis = 0;
  if (b.graph().opset >= 13) {
    axis = static_cast<int>(normalize_axis(n.attrs.get_int("axis", -1), rank, "axis"));
  } else {
    // Before opset 13 Softmax works on the input flattened to 2-D at `axis`.
    const auto split = static_cast<std::size_t>(normalize_axis(n.attrs.get_int("axis", 1), rank, "axis"));
    std::int64_t rows = 1, cols = 1;
    for (std::size_t i = 0; i < xs.size(); ++i) (i < split ? rows : cols) *= xs[i];
    shape = {rows, cols};
    axis = 1;
  }
  const auto src = b.reshaped(x, shape);
  dnnl::softmax_forward::desc d(dnnl::prop_kind::forward_inference, b.slot_md(src), axis);
  dnnl::softmax_forward::primitive_desc pd(d, b.attr(), b.engine());
  const auto dst = b.new_slot(pd.dst_desc(), b.graph().value(out).name);
  b.add_primitive(dnnl::softmax_forward(pd), pd, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
  b.define(out, shape == xs ? dst : b.view(dst, plain_md(xs)));
}

}  // namespace pt2onnx::runtime
