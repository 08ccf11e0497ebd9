#include "exporter/onnx_shapes.h"

#include <cctype>

#include <fmt/format.h>

namespace pt2onnx::exporter {

std::string describe_shape(const onnx::TypeProto& type) {
  if (!type.has_tensor_type() || !type.tensor_type().has_shape()) return "unknown";
  std::string out = "[";
  const auto& shape = type.tensor_type().shape();
  for (int i = 0; i < shape.dim_size(); ++i) {
    if (i > 0) out += ", ";
    const auto& d = shape.dim(i);
    if (d.has_dim_value()) {
      out += std::to_string(d.dim_value());
    } else if (d.has_dim_param() && !d.dim_param().empty()) {
      out += d.dim_param();
    } else {
      out += "?";
    }
  }
  return out + "]";
}

std::string describe_elem_type(std::int32_t elem_type) {
  using T = onnx::TensorProto_DataType;
  switch (elem_type) {
    case T::TensorProto_DataType_FLOAT:
      return "float32";
    case T::TensorProto_DataType_DOUBLE:
      return "float64";
    case T::TensorProto_DataType_FLOAT16:
      return "float16";
    case T::TensorProto_DataType_BFLOAT16:
      return "bfloat16";
    case T::TensorProto_DataType_INT64:
      return "int64";
    case T::TensorProto_DataType_INT32:
      return "int32";
    case T::TensorProto_DataType_INT16:
      return "int16";
    case T::TensorProto_DataType_INT8:
      return "int8";
    case T::TensorProto_DataType_UINT8:
      return "uint8";
    case T::TensorProto_DataType_BOOL:
      return "bool";
    default:
      break;
  }
  if (onnx::TensorProto_DataType_IsValid(elem_type)) {
    auto name = onnx::TensorProto_DataType_Name(static_cast<T>(elem_type));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
  }
  return fmt::format("type {}", elem_type);
}

}  // namespace pt2onnx::exporter
