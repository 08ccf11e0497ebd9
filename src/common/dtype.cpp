#include "pt2onnx/dtype.h"

#include <array>
#include <bit>
#include <cstring>
#include <utility>

namespace pt2onnx {
namespace {

struct DTypeInfo {
  DType dtype;
  std::string_view name;
  std::size_t size;
  bool floating;
};

constexpr std::array<DTypeInfo, 10> kDTypes{{
    {DType::Float32, "float32", 4, true},
    {DType::Float16, "float16", 2, true},
    {DType::BFloat16, "bfloat16", 2, true},
    {DType::Float64, "float64", 8, true},
    {DType::Int64, "int64", 8, false},
    {DType::Int32, "int32", 4, false},
    {DType::Int16, "int16", 2, false},
    {DType::Int8, "int8", 1, false},
    {DType::UInt8, "uint8", 1, false},
    {DType::Bool, "bool", 1, false},
}};

const DTypeInfo& info(DType dtype) {
  for (const auto& i : kDTypes) {
    if (i.dtype == dtype) return i;
  }
  return kDTypes[0];  // every enumerator is listed above
}

}  // namespace

std::string_view dtype_name(DType dtype) { return info(dtype).name; }
std::size_t dtype_size(DType dtype) { return info(dtype).size; }
bool dtype_is_floating(DType dtype) { return info(dtype).floating; }

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& i : kDTypes) {
    if (i.name == name) return i.dtype;
  }
  return std::nullopt;
}

float half_to_float(std::uint16_t bits) {
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000U) << 16;
  const std::uint32_t exponent = (bits >> 10) & 0x1fU;
  std::uint32_t mantissa = bits & 0x3ffU;
  std::uint32_t out = 0;
  if (exponent == 0x1f) {  // inf or nan
    out = sign | 0x7f800000U | (mantissa << 13);
  } else if (exponent != 0) {  // normal
    out = sign | ((exponent + 112U) << 23) | (mantissa << 13);
  } else if (mantissa != 0) {  // subnormal: renormalise
    std::uint32_t e = 113;
    while ((mantissa & 0x400U) == 0) {
      mantissa <<= 1;
      --e;
    }
    out = sign | (e << 23) | ((mantissa & 0x3ffU) << 13);
  } else {
    out = sign;
  }
  return std::bit_cast<float>(out);
}

float bfloat16_to_float(std::uint16_t bits) { return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16); }

}  // namespace pt2onnx
