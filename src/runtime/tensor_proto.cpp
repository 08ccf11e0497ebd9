#include "runtime/tensor_proto.h"

#include <cstring>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx::runtime {
namespace {

template <typename Src, typename Dst>
void copy_converted(const google::protobuf::RepeatedField<Src>& src, std::vector<std::byte>& bytes) {
  bytes.resize(static_cast<std::size_t>(src.size()) * sizeof(Dst));
  for (int i = 0; i < src.size(); ++i) {
    const auto v = static_cast<Dst>(src.Get(i));
    std::memcpy(bytes.data() + static_cast<std::size_t>(i) * sizeof(Dst), &v, sizeof(Dst));
  }
}

}  // namespace

std::optional<DType> dtype_from_onnx(std::int32_t elem_type) {
  using TP = onnx::TensorProto;
  switch (elem_type) {
    case TP::FLOAT:
      return DType::Float32;
    case TP::UINT8:
      return DType::UInt8;
    case TP::INT8:
      return DType::Int8;
    case TP::INT16:
      return DType::Int16;
    case TP::INT32:
      return DType::Int32;
    case TP::INT64:
      return DType::Int64;
    case TP::BOOL:
      return DType::Bool;
    case TP::FLOAT16:
      return DType::Float16;
    case TP::DOUBLE:
      return DType::Float64;
    case TP::BFLOAT16:
      return DType::BFloat16;
    default:
      return std::nullopt;
  }
}

std::string onnx_elem_type_name(std::int32_t elem_type) {
  if (onnx::TensorProto::DataType_IsValid(elem_type)) {
    return onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(elem_type));
  }
  return fmt::format("element type {}", elem_type);
}

Tensor tensor_from_proto(const onnx::TensorProto& proto) {
  return with_error_context(fmt::format("tensor '{}'", proto.name()), [&] {
    const auto dtype = dtype_from_onnx(proto.data_type());
    if (!dtype) {
      throw_error(ErrorKind::Unsupported,
                  fmt::format("dtype {} is not supported", onnx_elem_type_name(proto.data_type())));
    }
    if (proto.data_location() == onnx::TensorProto::EXTERNAL || proto.external_data_size() != 0) {
      throw_error(ErrorKind::Unsupported, "tensors with external data are not supported; save the model as one file");
    }
    if (proto.has_segment()) throw_error(ErrorKind::Unsupported, "segmented tensors are not supported");
    Shape shape;
    for (auto d : proto.dims()) {
      if (d < 0) throw_error(ErrorKind::BadInput, fmt::format("negative dimension {}", d));
      shape.push_back(d);
    }
    const auto numel = shape_numel(shape);
    const auto elem = static_cast<std::int64_t>(dtype_size(*dtype));
    if (numel > kMaxTensorBytes / elem) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("shape {} is larger than the {} byte limit", shape_to_string(shape), kMaxTensorBytes));
    }
    const auto expected = static_cast<std::size_t>(numel * elem);

    std::vector<std::byte> bytes;
    int typed_count = 0;
    switch (*dtype) {
      case DType::Float32:
        typed_count = proto.float_data_size();
        break;
      case DType::Int64:
        typed_count = proto.int64_data_size();
        break;
      case DType::Float64:
        typed_count = proto.double_data_size();
        break;
      default:
        typed_count = proto.int32_data_size();
        break;
    }
    if (proto.has_raw_data()) {
      if (typed_count != 0) throw_error(ErrorKind::BadInput, "has both raw_data and typed data");
      if (proto.raw_data().size() != expected) {
        throw_error(ErrorKind::BadInput,
                    fmt::format("raw_data has {} bytes, shape {} of {} needs {}", proto.raw_data().size(),
                                shape_to_string(shape), dtype_name(*dtype), expected));
      }
      bytes.resize(expected);
      if (expected != 0) std::memcpy(bytes.data(), proto.raw_data().data(), expected);
      return Tensor(*dtype, std::move(shape), std::move(bytes));
    }
    if (typed_count != numel) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("has {} values, shape {} needs {}", typed_count, shape_to_string(shape), numel));
    }
    switch (*dtype) {
      case DType::Float32:
        copy_converted<float, float>(proto.float_data(), bytes);
        break;
      case DType::Int64:
        copy_converted<std::int64_t, std::int64_t>(proto.int64_data(), bytes);
        break;
      case DType::Float64:
        copy_converted<double, double>(proto.double_data(), bytes);
        break;
      case DType::Int32:
        copy_converted<std::int32_t, std::int32_t>(proto.int32_data(), bytes);
        break;
      case DType::Int16:
        copy_converted<std::int32_t, std::int16_t>(proto.int32_data(), bytes);
        break;
      case DType::Int8:
        copy_converted<std::int32_t, std::int8_t>(proto.int32_data(), bytes);
        break;
      case DType::UInt8:
      case DType::Bool:
        copy_converted<std::int32_t, std::uint8_t>(proto.int32_data(), bytes);
        break;
      // 16-bit floats are stored as their bit patterns in int32_data.
      case DType::Float16:
      case DType::BFloat16:
        copy_converted<std::int32_t, std::uint16_t>(proto.int32_data(), bytes);
        break;
    }
    return Tensor(*dtype, std::move(shape), std::move(bytes));
  });
}

}  // namespace pt2onnx::runtime
