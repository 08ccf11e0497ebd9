#include "runtime/dnnl_util.h"

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

}  // namespace pt2onnx::runtime
