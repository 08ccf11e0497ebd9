#include "runtime/dnnl_util.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "pt2onnx/error.h"

namespace pt2onnx::runtime {

memory::dims to_dnnl_dims(const std::vector<std::int64_t>& shape) {
  if (shape.size() > kMaxRank) {
    throw_error(ErrorKind::Unsupported,
                fmt::format("rank {} is above the engine's limit of {}", shape.size(), kMaxRank));
  }
  if (shape.empty()) return {1};
  return memory::dims(shape.begin(), shape.end());
}

memory::desc plain_md(const std::vector<std::int64_t>& shape) {
  const auto dims = to_dnnl_dims(shape);
  memory::dims strides(dims.size(), 1);
  for (auto i = dims.size(); i-- > 1;) strides[i - 1] = strides[i] * std::max<memory::dim>(dims[i], 1);
  return memory::desc(dims, memory::data_type::f32, strides);
}

memory::desc any_md(const std::vector<std::int64_t>& shape) {
  return memory::desc(to_dnnl_dims(shape), memory::data_type::f32, memory::format_tag::any);
}

bool is_plain(const memory::desc& md) {
  const auto& d = md.data;
  if (d.format_kind != dnnl_blocked || d.format_desc.blocking.inner_nblks != 0) return false;
  if (d.offset0 != 0) return false;
  memory::dim expected = 1;
  for (int i = d.ndims; i-- > 0;) {
    if (d.dims[i] != d.padded_dims[i]) return false;
    if (d.dims[i] != 1 && d.format_desc.blocking.strides[i] != expected) return false;
    expected *= d.dims[i];
  }
  return true;
}

memory::desc plain_view(const memory::desc& md, const std::vector<std::int64_t>& shape) {
  auto view = plain_md(shape);
  if (!is_plain(md) || view.get_size() != md.get_size()) {
    throw_error(ErrorKind::Internal, fmt::format("cannot view {} as [{}]", md_to_string(md), fmt::join(shape, ", ")));
  }
  return view;
}

std::string md_to_string(const memory::desc& md) {
  const auto& d = md.data;
  std::vector<memory::dim> dims(d.dims, d.dims + d.ndims);
  if (d.format_kind != dnnl_blocked)
    return fmt::format("[{}] (format {})", fmt::join(dims, ", "), static_cast<int>(d.format_kind));
  std::vector<memory::dim> strides(d.format_desc.blocking.strides, d.format_desc.blocking.strides + d.ndims);
  return fmt::format("[{}] strides [{}] inner blocks {}", fmt::join(dims, ", "), fmt::join(strides, ", "),
                     d.format_desc.blocking.inner_nblks);
}

bool is_unblocked(const memory::desc& md) {
  return md.data.format_kind == dnnl_blocked && md.data.format_desc.blocking.inner_nblks == 0;
}

std::optional<memory::desc> strided_reshape(const memory::desc& md, const std::vector<std::int64_t>& dims) {
  const auto& d = md.data;
  if (!is_unblocked(md) || dims.empty() || dims.size() > kMaxRank) return std::nullopt;
  const std::vector<memory::dim> od(d.dims, d.dims + d.ndims);
  const std::vector<memory::dim> os(d.format_desc.blocking.strides, d.format_desc.blocking.strides + d.ndims);
  for (int i = 0; i < d.ndims; ++i) {
    if (d.dims[i] == 0 || d.dims[i] != d.padded_dims[i]) return std::nullopt;
  }
  for (auto n : dims) {
    if (n <= 0) return std::nullopt;
  }
  // Walk the old axes from the innermost; each run of old axes contiguous
  // with each other (a chunk) must be exactly covered by new axes.
  memory::dims ns(dims.size());
  auto view_d = static_cast<std::ptrdiff_t>(dims.size()) - 1;
  memory::dim chunk_base = os.back(), tensor_numel = 1, view_numel = 1;
  for (auto t = static_cast<std::ptrdiff_t>(od.size()) - 1; t >= 0; --t) {
    const auto tu = static_cast<std::size_t>(t);
    tensor_numel *= od[tu];
    if (t == 0 || (od[tu - 1] != 1 && os[tu - 1] != tensor_numel * chunk_base)) {
      while (view_d >= 0 && (view_numel < tensor_numel || dims[static_cast<std::size_t>(view_d)] == 1)) {
        ns[static_cast<std::size_t>(view_d)] = view_numel * chunk_base;
        view_numel *= dims[static_cast<std::size_t>(view_d)];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (t > 0) {
        chunk_base = os[tu - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  // Leading size-1 axes (a batch of one) address nothing: give them the
  // outermost stride, so that the batch stays outermost. [1, C, H, W] with
  // the batch's stride inside is NHWC's bytes, but only the batch-outer
  // descriptor (acdb) has oneDNN's optimised kernels (ref:any otherwise).
  memory::dim extent = 1;
  for (std::size_t a = 0; a < dims.size(); ++a) {
    if (dims[a] != 1) extent = std::max(extent, ns[a] * dims[a]);
  }
  for (std::size_t a = 0; a < dims.size() && dims[a] == 1; ++a) ns[a] = extent;
  memory::desc out(to_dnnl_dims(dims), memory::data_type::f32, ns);
  out.data.offset0 = d.offset0;
  return out;
}

namespace {

// Dense strides for `dims` with the axes laid out in `order` (outermost first).
memory::desc dense_with_order(const std::vector<std::int64_t>& dims, const std::vector<std::size_t>& order) {
  memory::dims strides(dims.size(), 1);
  memory::dim next = 1;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    strides[*it] = next;
    next *= std::max<memory::dim>(dims[*it], 1);
  }
  return memory::desc(to_dnnl_dims(dims), memory::data_type::f32, strides);
}

}  // namespace

memory::desc dense_in_order_of(const memory::desc& md, const std::vector<std::int64_t>& dims) {
  const auto& d = md.data;
  std::vector<std::size_t> order(dims.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (!is_unblocked(md) || d.ndims != static_cast<int>(dims.size())) return plain_md(dims);
  const auto* s = d.format_desc.blocking.strides;
  // Larger stride outer; ties (size-1 axes) in logical order.
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return s[a] > s[b]; });
  return dense_with_order(dims, order);
}

memory::desc reshapable_layout(const memory::desc& md, const std::vector<std::int64_t>& dims) {
  const auto& d = md.data;
  const std::vector<std::int64_t> od(d.dims, d.dims + d.ndims);
  if (!is_unblocked(md)) return plain_md(od);
  // Groups of old axes whose product equals that of a run of new axes.
  std::vector<std::pair<std::size_t, std::size_t>> groups;
  std::size_t i = 0, j = 0;
  while (i < od.size()) {
    const auto first = i;
    std::int64_t po = od[i++], pn = j < dims.size() ? dims[j++] : 1;
    while (po != pn) {
      if (po < pn && i < od.size()) {
        po *= od[i++];
      } else if (j < dims.size()) {
        pn *= dims[j++];
      } else {
        return plain_md(od);
      }
    }
    groups.emplace_back(first, i);
  }
  const auto* s = d.format_desc.blocking.strides;
  auto key = [&](const std::pair<std::size_t, std::size_t>& g) {
    memory::dim k = s[g.first];
    for (auto a = g.first; a < g.second; ++a) {
      if (od[a] != 1) k = std::max(k, s[a]);
    }
    return k;
  };
  std::stable_sort(groups.begin(), groups.end(), [&](const auto& a, const auto& b) { return key(a) > key(b); });
  std::vector<std::size_t> order;
  for (const auto& [first, last] : groups) {
    for (auto a = first; a < last; ++a) order.push_back(a);
  }
  return dense_with_order(od, order);
}

}  // namespace pt2onnx::runtime
