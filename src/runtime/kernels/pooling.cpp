// MaxPool, AveragePool and GlobalAveragePool through oneDNN's pooling, and
// GlobalAveragePool on channels-last activations through the engine's loop.
// ceil_mode becomes extra end padding (never counted by max, and excluded
// from averages as PyTorch does); the one combination oneDNN cannot express,
// an average that counts explicit padding but not the ceil_mode overhang,
// runs a plain loop.
#include <algorithm>

#include <fmt/format.h>

#include "runtime/geometry.h"
#include "runtime/kernels/channels_last.h"
#include "runtime/kernels/kernels.h"
#include "runtime/op_util.h"

namespace pt2onnx::runtime {
namespace {

// Average pooling over dense row-major [N, C, spatial...] in which the
// divisor counts the explicit padding but not the ceil_mode overhang.
void average_pool_plain(const float* in, float* out, const std::vector<std::int64_t>& xs,
                        const std::vector<std::int64_t>& ys, const WindowGeometry& geo) {
  const auto spatial = xs.size() - 2;
  std::int64_t in_plane = 1, out_plane = 1;
  for (std::size_t i = 0; i < spatial; ++i) {
    in_plane *= xs[i + 2];
    out_plane *= ys[i + 2];
  }
  std::vector<std::int64_t> o(spatial), lo(spatial), hi(spatial), k(spatial);
  for (std::int64_t plane = 0; plane < xs[0] * xs[1]; ++plane) {
    const float* src = in + plane * in_plane;
    float* dst = out + plane * out_plane;
    for (std::int64_t p = 0; p < out_plane; ++p) {
      std::int64_t rest = p, divisor = 1;
      bool empty = false;
      for (auto d = spatial; d-- > 0;) {
        o[d] = rest % ys[d + 2];
        rest /= ys[d + 2];
        const auto start = o[d] * geo.strides[d] - geo.pad_begin[d];
        const auto end = std::min(start + geo.kernel[d], xs[d + 2] + geo.pad_end[d]);
        divisor *= end - start;
        lo[d] = std::max<std::int64_t>(start, 0);
        hi[d] = std::min(end, xs[d + 2]);
        empty = empty || lo[d] >= hi[d];
      }
      double sum = 0.0;
      if (!empty) {
        k = lo;
        while (true) {
          std::int64_t idx = 0;
          for (std::size_t d = 0; d < spatial; ++d) idx = idx * xs[d + 2] + k[d];
          sum += static_cast<double>(src[idx]);
          std::size_t d = spatial;
          while (d-- > 0) {
            if (++k[d] < hi[d]) break;
            k[d] = lo[d];
          }
          if (d == static_cast<std::size_t>(-1)) break;
        }
      }
      dst[p] = static_cast<float>(sum / static_cast<double>(divisor));
    }
  }
}

// Pools x into a new slot of dims `ys` in the layout the primitive chooses.
SlotId add_pooling(PlanBuilder& b, ValueId x, const std::vector<std::int64_t>& ys, dnnl::algorithm alg,
                   const WindowGeometry& geo, const std::string& label) {
  memory::dims strides, kernel, dilation, pad_l, pad_r;
  for (std::size_t i = 0; i < geo.kernel.size(); ++i) {
    strides.push_back(geo.strides[i]);
    kernel.push_back(geo.kernel[i]);
    dilation.push_back(geo.dilations[i] - 1);
    pad_l.push_back(geo.pad_begin[i]);
    pad_r.push_back(geo.pad_end[i] + geo.ceil_extra[i]);
  }
  auto make_pd = [&](const memory::desc& src_md) {
    dnnl::pooling_v2_forward::desc d(dnnl::prop_kind::forward_inference, alg, src_md, any_md(ys), strides, kernel,
                                     dilation, pad_l, pad_r);
    return dnnl::pooling_v2_forward::primitive_desc(d, b.attr(), b.engine());
  };
  // The input's layout, or plain for a strided view pooling cannot take.
  dnnl::pooling_v2_forward::primitive_desc pd;
  if (!try_create([&] { pd = make_pd(b.md(x)); })) pd = make_pd(plain_md(b.shape(x)));
  const auto src = b.in_layout(x, pd.src_desc());
  const auto dst = b.new_slot(pd.dst_desc(), label);
  b.add_primitive(dnnl::pooling_v2_forward(pd), pd, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
  return dst;
}

void add_pooling(PlanBuilder& b, const Node& n, dnnl::algorithm alg, const WindowGeometry& geo) {
  const auto out = n.outputs[0];
  b.define(out, add_pooling(b, n.inputs[0], b.shape(out), alg, geo, b.graph().value(out).name));
}

}  // namespace

void build_pool(PlanBuilder& b, const Node& n) {
  const auto xs = b.shape(n.inputs[0]);
  const auto kernel = n.attrs.get_ints("kernel_shape", {});
  const bool is_max = n.op == OpType::MaxPool;
  const auto geo = window_geometry(n.attrs, {xs.begin() + 2, xs.end()}, kernel, true, is_max);
  if (is_max) {
    add_pooling(b, n, dnnl::algorithm::pooling_max, geo);
    return;
  }
  const bool count_pad = n.attrs.get_int("count_include_pad", 0) != 0;
  const bool overhang = std::any_of(geo.ceil_extra.begin(), geo.ceil_extra.end(), [](auto e) { return e > 0; });
  if (!count_pad) {
    add_pooling(b, n, dnnl::algorithm::pooling_avg_exclude_padding, geo);
    return;
  }
  if (!overhang) {
    add_pooling(b, n, dnnl::algorithm::pooling_avg_include_padding, geo);
    return;
  }
  const auto out = n.outputs[0];
  const auto ys = b.shape(out);
  const auto src = b.plain(n.inputs[0]);
  const auto dst = b.new_slot(plain_md(ys), b.graph().value(out).name);
  b.add_custom(
      [src, dst, xs, ys, geo](const SlotMemories& m) {
        average_pool_plain(static_cast<const float*>(m[static_cast<std::size_t>(src)].get_data_handle()),
                           static_cast<float*>(m[static_cast<std::size_t>(dst)].get_data_handle()), xs, ys, geo);
      },
      {src}, {dst});
  b.define(out, dst);
}

SlotId add_global_average_pool(PlanBuilder& b, ValueId x, const std::string& label) {
  const auto xs = b.shape(x);
  // A channels-last or channel-blocked activation: the engine's loop, which
  // splits it among the threads as the convolution that wrote it did
  // (channels_last.h). Its [N, C, 1, 1] result keeps the input's layout,
  // which for one pixel is the plain one.
  if (const auto walk = channel_walk(b.md(x), xs)) {
    const auto src = b.slot(x);
    const auto dst = b.new_slot(memory::desc({xs[0], xs[1], 1, 1}, memory::data_type::f32, walk->tag), label);
    const auto partials = b.new_slot(plain_md({mean_partial_floats(walk->images, walk->pixels, walk->channels)}),
                                     label + " (partial sums)");
    b.add_custom(
        [src, dst, partials, w = *walk](const SlotMemories& m) {
          channels_last_mean(static_cast<const float*>(m[static_cast<std::size_t>(src)].get_data_handle()),
                             static_cast<float*>(m[static_cast<std::size_t>(dst)].get_data_handle()),
                             static_cast<float*>(m[static_cast<std::size_t>(partials)].get_data_handle()), w.images,
                             w.pixels, w.channels);
        },
        {src}, {dst, partials});
    return dst;
  }
  WindowGeometry geo;
  geo.kernel.assign(xs.begin() + 2, xs.end());
  const auto spatial = geo.kernel.size();
  geo.strides.assign(spatial, 1);
  geo.dilations.assign(spatial, 1);
  geo.pad_begin.assign(spatial, 0);
  geo.pad_end.assign(spatial, 0);
  geo.ceil_extra.assign(spatial, 0);
  geo.output.assign(spatial, 1);
  std::vector<std::int64_t> ys{xs[0], xs[1]};
  ys.resize(xs.size(), 1);
  return add_pooling(b, x, ys, dnnl::algorithm::pooling_avg_exclude_padding, geo, label);
}

void build_global_average_pool(PlanBuilder& b, const Node& n) {
  const auto out = n.outputs[0];
  b.define(out, add_global_average_pool(b, n.inputs[0], b.graph().value(out).name));
}

}  // namespace pt2onnx::runtime
