// Small conversions between the engine's shapes and oneDNN memory descriptors.
#pragma once

#include <cstdint>
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

}  // namespace pt2onnx::runtime
