// Overflow-checked integer arithmetic for sizes, counts and offsets read from
// files: a hostile header must turn into an error, never into a wrapped value.
#pragma once

#include <optional>
#include <type_traits>

namespace pt2onnx {

template <typename T>
requires std::is_integral_v<T>
[[nodiscard]] std::optional<T> checked_add(T a, T b) {
  T out;
  if (__builtin_add_overflow(a, b, &out)) return std::nullopt;
  return out;
}

template <typename T>
requires std::is_integral_v<T>
[[nodiscard]] std::optional<T> checked_mul(T a, T b) {
  T out;
  if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}

}  // namespace pt2onnx
