#include <algorithm>
#include <cstdint>
#include <cstring>

#include "reference/parallel.h"
#include "reference/reference.h"

namespace pt2onnx::reference {
namespace {

// splitmix64's finaliser: well-mixed bits from a counter, so that any plane's
// coin flip is known without running through the ones before it (the work is
// split across threads) and a seed gives the same run everywhere.
std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Adds `step` (negative: towards zero) to the magnitude's bits of each finite
// non-zero float: whole ulps, crossing into the next binade where it must.
// Zero stays exact, as a ReLU's zero is in every engine; inf and NaN stay.
PT2ONNX_TARGET_CLONES void nudge(float* data, std::int64_t count, std::int32_t step) {
  for (std::int64_t i = 0; i < count; ++i) {
    std::int32_t bits;
    std::memcpy(&bits, &data[i], sizeof bits);
    const std::int32_t magnitude = bits & 0x7fffffff;
    const bool finite_nonzero = magnitude != 0 && magnitude < 0x7f800000;
    const std::int32_t moved = std::clamp(magnitude + step, 0, 0x7f7fffff);
    bits = finite_nonzero ? ((bits & ~0x7fffffff) | moved) : bits;
    std::memcpy(&data[i], &bits, sizeof bits);
  }
}

}  // namespace

void add_rounding_noise(Tensor& t, std::int64_t first_row, std::uint32_t ulps, std::uint64_t seed, std::uint64_t stream,
                        std::int64_t row_base) {
  if (ulps == 0 || t.rank() == 0 || first_row >= t.dim(0) || t.numel() == 0) return;
  const std::uint64_t key = mix(seed ^ mix(stream + 0x9e3779b97f4a7c15ULL));
  const auto step = static_cast<std::int32_t>(ulps);
  if (t.rank() == 3) {
    // A token sequence [N, L, D]: a channel is one feature of one image's
    // tokens, all moved the same way, as a pixel channel is.
    const std::int64_t length = t.dim(1), width = t.dim(2);
    float* data = t.f32().data();
    parallel_for((t.dim(0) - first_row) * length,
                 [&](std::int64_t r0, std::int64_t r1) {
                   for (std::int64_t r = r0; r < r1; ++r) {
                     const std::int64_t image = first_row + r / length;
                     float* token = data + (first_row * length + r) * width;
                     const auto channel0 = static_cast<std::uint64_t>((row_base + image) * width);
                     for (std::int64_t c = 0; c < width; ++c) {
                       const bool away = (mix(key + channel0 + static_cast<std::uint64_t>(c)) & 1U) != 0;
                       nudge(token + c, 1, away ? step : -step);
                     }
                   }
                 },
                 std::max<std::int64_t>(2, 65536 / std::max<std::int64_t>(width, 1)));
    return;
  }
  // A plane is one image's channel ([N, C, H, W]) or one value ([N, K]).
  const std::int64_t plane = t.rank() == 4 ? t.dim(2) * t.dim(3) : 1;
  const std::int64_t row = static_cast<std::int64_t>(t.numel()) / t.dim(0);
  float* begin = t.f32().data() + first_row * row;
  const std::int64_t planes = (t.dim(0) - first_row) * row / plane;
  const std::int64_t first_plane = (row_base + first_row) * row / plane;
  parallel_for(
      planes,
      [&](std::int64_t p0, std::int64_t p1) {
        for (std::int64_t p = p0; p < p1; ++p) {
          const bool away = (mix(key + static_cast<std::uint64_t>(first_plane + p)) & 1U) != 0;
          nudge(begin + p * plane, plane, away ? step : -step);
        }
      },
      std::max<std::int64_t>(2, 65536 / plane));
}

}  // namespace pt2onnx::reference
