// Element types, named as PyTorch names them (without "torch.").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace pt2onnx {

enum class DType { Float32, Float16, BFloat16, Float64, Int64, Int32, Int16, Int8, UInt8, Bool };

std::string_view dtype_name(DType dtype);                     // "float32", "bfloat16", ...
std::size_t dtype_size(DType dtype);                          // bytes per element
std::optional<DType> dtype_from_name(std::string_view name);  // inverse of dtype_name
bool dtype_is_floating(DType dtype);

// Exact widening conversions of the 16-bit float formats.
float half_to_float(std::uint16_t bits);
float bfloat16_to_float(std::uint16_t bits);

}  // namespace pt2onnx
