// Concat, Softmax, Transpose, Slice, and the reshapes (Flatten, Reshape,
// Squeeze, Unsqueeze, and Identity/Dropout when remove_identity is off). A
// reshape is a view of its input's bytes in row-major order: free unless the
// input sits in a blocked layout, which is reordered to plain first. A
// Transpose is a view of its input with the axes permuted (free; NCHW data in
// NHWC order seen as [N, H, W, C] is even plain), or a reorder of a blocked
// input into plain. A Reshape of such a strided view is a view too when the
// strides allow. A Slice is a strided view of its input copied out by a
// reorder. A Gather with indices known before the run (x[:, 0] on the input
// image) copies the picked blocks of the plain input.
#include <algorithm>
#include <cstring>
#include <span>

#include <fmt/format.h>

#include "runtime/kernels/channels_last.h"
#include "runtime/kernels/kernels.h"
#include "runtime/op_util.h"

namespace pt2onnx::runtime {
namespace {

// A Slice with a negative step (no oneDNN descriptor has negative strides):
// element by element from a strided input to a dense row-major output.
void slice_copy(const float* in, float* out, const std::vector<std::int64_t>& in_strides,
                const std::vector<SliceRange>& ranges, std::int64_t total) {
  const auto rank = ranges.size();
  for (std::int64_t i = 0; i < total; ++i) {
    std::int64_t rest = i, src = 0;
    for (auto a = rank; a-- > 0;) {
      const auto k = rest % ranges[a].length;
      rest /= ranges[a].length;
      src += (ranges[a].start + k * ranges[a].step) * in_strides[a];
    }
    out[i] = in[src];
  }
}

// A Concat on the channels of channels-last 4-D pieces (SqueezeNet's fire
// modules, ShuffleNet's blocks: the convolutions before them write
// channels-last) as the engine's loop, split among the team by pixels like
// the convolutions that wrote the pieces (channels_last.h). oneDNN's concat
// primitive did the same copy; with the loop, both plans alternating in one
// process at batch 1, SqueezeNet 1.1 went from 2.93 to 2.79 ms a run on two
// threads (3.70 to 3.57 on one), ShuffleNet V2 x1.0 from 3.30 to 3.19 (3.44
// to 3.26). False, with nothing added, for any other Concat.
bool add_channels_last_concat(PlanBuilder& b, const Node& n, int axis) {
  const auto ys = b.shape(n.outputs[0]);
  if (axis != 1 || ys.size() != 4 || n.inputs.size() > kMaxConcatPieces) return false;
  std::vector<SlotId> srcs;
  for (auto in : n.inputs) {
    const auto xs = b.shape(in);
    if (b.graph().is_constant(in) || b.md(in) != memory::desc(xs, memory::data_type::f32, memory::format_tag::acdb)) {
      return false;
    }
    srcs.push_back(b.slot(in));
  }
  const auto join = channels_last_join(b, n, std::move(srcs));
  b.add_custom(
      [join](const SlotMemories& m) {
        join.with_pieces(m, [&](std::span<const ChannelsLastPiece> pieces, float* joined) {
          channels_last_concat(pieces, joined, join.pixels, join.total);
        });
      },
      join.srcs, {join.dst});
  b.define(n.outputs[0], join.dst);
  return true;
}

}  // namespace

ChannelsLastJoin channels_last_join(PlanBuilder& b, const Node& n, std::vector<SlotId> srcs) {
  const auto ys = b.shape(n.outputs[0]);
  ChannelsLastJoin join;
  for (std::size_t i = 0; i < srcs.size(); ++i) join.channels.push_back(b.shape(n.inputs[i])[1]);
  join.srcs = std::move(srcs);
  join.dst = b.new_slot(memory::desc(ys, memory::data_type::f32, memory::format_tag::acdb),
                        b.graph().value(n.outputs[0]).name);
  join.pixels = ys[0] * ys[2] * ys[3];
  join.total = ys[1];
  return join;
}

void build_reshape(PlanBuilder& b, const Node& n) {
  const auto x = n.inputs[0];
  const auto out = n.outputs[0];
  const auto ys = b.shape(out);
  const auto canonical = [&](const memory::desc& md) { return is_plain(md) ? plain_md(ys) : md; };
  // A strided input (channels-last, a Transpose's view): a strided view when
  // the strides allow, else a copy into a layout that allows it, which keeps
  // channels-last data channels-last (ShuffleNet's shuffle: split C, swap,
  // merge).
  if (!b.graph().is_constant(x) && is_unblocked(b.md(x)) && !is_plain(b.md(x))) {
    if (const auto v = strided_reshape(b.md(x), ys)) {
      b.define(out, b.view(b.slot(x), canonical(*v)));
      return;
    }
    const auto copy = b.in_layout(x, reshapable_layout(b.md(x), ys));
    if (const auto v = strided_reshape(b.slot_md(copy), ys)) {
      b.define(out, b.view(copy, canonical(*v)));
      return;
    }
  }
  b.define(out, b.reshaped(x, ys));
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
  if (add_channels_last_concat(b, n, axis)) return;
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

void build_transpose(PlanBuilder& b, const Node& n) {
  const auto x = n.inputs[0];
  const auto out = n.outputs[0];
  const auto xs = b.shape(x);
  const auto ys = b.shape(out);
  const auto perm = transpose_perm(n, xs.size());
  if (xs.size() <= 1) {
    b.define(out, b.reshaped(x, ys));
    return;
  }
  // oneDNN's permute_axes sends input axis i to output axis to[i]: the inverse of ONNX's perm.
  std::vector<int> to(perm.size());
  for (std::size_t i = 0; i < perm.size(); ++i) to[static_cast<std::size_t>(perm[i])] = static_cast<int>(i);
  const auto src = b.slot(x);
  const bool arena = !b.graph().is_constant(x);
  const auto permuted = b.slot_md(src).permute_axes(to);
  // Unblocked: the permuted view is the output (a strided layout its readers
  // take as it is, or reorder when they need plain).
  if (arena && permuted.data.format_desc.blocking.inner_nblks == 0) {
    b.define(out, b.view(src, is_plain(permuted) ? plain_md(ys) : permuted));
    return;
  }
  const auto from = arena ? b.view(src, permuted) : b.constant(x, permuted, plain_md(ys));
  if (!arena) {
    b.define(out, from);
    return;
  }
  const auto dst = b.new_slot(plain_md(ys), b.graph().value(out).name);
  b.add_reorder(from, dst);
  b.define(out, dst);
}

void build_slice(PlanBuilder& b, const Node& n) {
  const auto x = n.inputs[0];
  const auto out = n.outputs[0];
  const auto xs = b.shape(x);
  const auto ys = b.shape(out);
  const auto p = slice_params(b.graph(), n, xs.size());
  if (!p) throw_error(ErrorKind::Unsupported, "starts, ends, axes and steps must be known before the run");
  std::vector<SliceRange> ranges(xs.size());
  for (std::size_t a = 0; a < xs.size(); ++a) ranges[a] = {0, 1, xs[a]};
  for (std::size_t i = 0; i < p->axes.size(); ++i) {
    const auto a = static_cast<std::size_t>(p->axes[i]);
    ranges[a] = resolve_slice_axis(p->starts[i], p->ends[i], p->steps[i], xs[a]);
  }
  std::int64_t total = 1;
  for (auto d : ys) total *= d;
  // The input as it is when unblocked (the slice keeps its axis order), else plain.
  auto src = b.slot(x);
  if (b.graph().is_constant(x) || !is_unblocked(b.slot_md(src))) src = b.plain(x);
  const auto smd = b.slot_md(src).data;
  const std::vector<std::int64_t> in_strides(smd.format_desc.blocking.strides,
                                             smd.format_desc.blocking.strides + smd.ndims);
  const bool forward = std::all_of(ranges.begin(), ranges.end(), [](const SliceRange& r) { return r.step > 0; });
  if (total == 0 || !forward || b.graph().is_constant(x) || smd.offset0 != 0) {
    const auto dst = b.new_slot(plain_md(ys), b.graph().value(out).name);
    b.define(out, dst);
    if (total == 0) return;
    b.add_custom(
        [src, dst, in_strides, ranges, total](const SlotMemories& m) {
          slice_copy(static_cast<const float*>(m[static_cast<std::size_t>(src)].get_data_handle()),
                     static_cast<float*>(m[static_cast<std::size_t>(dst)].get_data_handle()), in_strides, ranges,
                     total);
        },
        {src}, {dst});
    return;
  }
  // The slice as a strided view of the input: its dims, the input's strides
  // times the steps, and the first element as the offset; copied out dense in
  // the input's axis order.
  memory::dims strides(xs.size());
  memory::dim offset = 0;
  for (std::size_t a = 0; a < xs.size(); ++a) {
    strides[a] = in_strides[a] * ranges[a].step;
    offset += ranges[a].start * in_strides[a];
  }
  memory::desc view_md(to_dnnl_dims(ys), memory::data_type::f32, strides);
  view_md.data.offset0 = offset;
  const auto dense = dense_in_order_of(b.slot_md(src), ys);
  const auto dst = b.new_slot(is_plain(dense) ? plain_md(ys) : dense, b.graph().value(out).name);
  b.add_reorder(b.view(src, view_md), dst);
  b.define(out, dst);
}

void build_gather(PlanBuilder& b, const Node& n) {
  const auto x = n.inputs[0];
  const auto out = n.outputs[0];
  const auto xs = b.shape(x);
  const auto ys = b.shape(out);
  const auto indices = constant_ints(b.graph(), n.inputs[1]);
  if (!indices) throw_error(ErrorKind::Unsupported, "the indices must be known before the run");
  const auto axis = static_cast<std::size_t>(
      normalize_axis(n.attrs.get_int("axis", 0), static_cast<std::int64_t>(xs.size()), "axis"));
  const auto dim = xs[axis];
  // Row k of [outer, dim, inner] for each index, in the indices' order.
  std::vector<std::int64_t> rows;
  rows.reserve(indices->size());
  for (auto k : *indices) {
    if (k < -dim || k >= dim)
      throw_error(ErrorKind::BadInput, fmt::format("index {} is out of range for size {}", k, dim));
    rows.push_back(k < 0 ? k + dim : k);
  }
  std::int64_t outer = 1, inner = 1;
  for (std::size_t a = 0; a < axis; ++a) outer *= xs[a];
  for (std::size_t a = axis + 1; a < xs.size(); ++a) inner *= xs[a];
  const auto dst = b.new_slot(plain_md(ys), b.graph().value(out).name);
  b.define(out, dst);
  if (outer == 0 || inner == 0 || rows.empty()) return;
  const auto src = b.plain(x);
  const auto offset = b.slot_md(src).data.offset0;  // a view's first element
  b.add_custom(
      [src, dst, rows, outer, dim, inner, offset](const SlotMemories& m) {
        const auto* in = static_cast<const float*>(m[static_cast<std::size_t>(src)].get_data_handle()) + offset;
        auto* o = static_cast<float*>(m[static_cast<std::size_t>(dst)].get_data_handle());
        const auto block = static_cast<std::size_t>(inner) * sizeof(float);
        for (std::int64_t i = 0; i < outer; ++i) {
          for (auto k : rows) {
            std::memcpy(o, in + (i * dim + k) * inner, block);
            o += inner;
          }
        }
      },
      {src}, {dst});
}

}  // namespace pt2onnx::runtime
