// torchvision's channel and depth scaling rules (models/_utils.py _make_divisible,
// efficientnet.py MBConvConfig.adjust_depth). Computed in double, as Python does,
// so that every width and depth multiplier rounds exactly as torchvision's.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>

namespace pt2onnx::models {

// Nearest multiple of `divisor` to v, at least min_value (default divisor), never
// more than 10% below v.
inline std::int64_t make_divisible(double v, std::int64_t divisor, std::optional<std::int64_t> min_value = {}) {
  const std::int64_t floor_min = min_value.value_or(divisor);
  // int(v + divisor / 2) // divisor * divisor: truncation, then floor division of non-negatives.
  const auto rounded = static_cast<std::int64_t>(v + static_cast<double>(divisor) / 2.0) / divisor * divisor;
  std::int64_t out = std::max(floor_min, rounded);
  if (static_cast<double>(out) < 0.9 * v) out += divisor;
  return out;
}

inline std::int64_t adjust_depth(std::int64_t num_layers, double depth_mult) {
  return static_cast<std::int64_t>(std::ceil(static_cast<double>(num_layers) * depth_mult));
}

}  // namespace pt2onnx::models
