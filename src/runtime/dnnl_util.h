// Small conversions between the engine's shapes and oneDNN memory descriptors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

namespace pt2onnx::runtime {

using dnnl::memory;

// oneDNN's limit on tensor rank.
inline constexpr std::size_t kMaxRank = DNNL_MAX_NDIMS;

memory::dims to_dnnl_dims(const std::vector<std::int64_t>& shape);
// Dense row-major float32; a rank-0 shape becomes [1] (oneDNN has no scalars).
memory::desc plain_md(const std::vector<std::int64_t>& shape);
// A float32 descriptor with a format to be chosen by the primitive.
memory::desc any_md(const std::vector<std::int64_t>& shape);
// True when the bytes are laid out as dense row-major over md's dims (size-1
// dims may have any stride), so that a plain view of the same bytes is exact.
bool is_plain(const memory::desc& md);
// The same bytes seen with other dims; md must be is_plain and the element counts equal.
memory::desc plain_view(const memory::desc& md, const std::vector<std::int64_t>& shape);
std::string md_to_string(const memory::desc& md);

// A strided layout with no blocking (plain, channels-last, a permuted view).
bool is_unblocked(const memory::desc& md);
// The same bytes of an unblocked md seen with other dims of the same element
// count, as a strided md (PyTorch's view rules: merged axes must be
// contiguous with each other, split axes always are); nullopt when no strides
// can express it.
std::optional<memory::desc> strided_reshape(const memory::desc& md, const std::vector<std::int64_t>& dims);
// A dense layout of md's dims (same rank as `dims`, which may differ in size)
// with md's axis order, outermost to innermost by md's strides: a sliced
// channels-last tensor stays channels-last.
memory::desc dense_in_order_of(const memory::desc& md, const std::vector<std::int64_t>& dims);
// A dense layout of md's dims in which every group of axes that reshaping to
// `dims` merges is contiguous in logical order, the groups ordered by md's
// strides: after a copy into it, strided_reshape to `dims` succeeds. A
// channel shuffle's transposed [N, C/2, 2, H, W] view of channels-last data
// becomes channels-last [N, C, H, W] this way, not NCHW.
memory::desc reshapable_layout(const memory::desc& md, const std::vector<std::int64_t>& dims);

}  // namespace pt2onnx::runtime
