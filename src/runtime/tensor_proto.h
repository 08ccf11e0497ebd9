// ONNX TensorProto -> Tensor, with every count and size checked against the
// data that is really there.
#pragma once

#include <onnx/onnx_pb.h>

#include "pt2onnx/tensor.h"

namespace pt2onnx::runtime {

// Largest initializer or constant accepted (bytes); a CNN's biggest weight is
// a few hundred MB at most.
inline constexpr std::int64_t kMaxTensorBytes = std::int64_t{4} << 30;

// Throws Error(BadInput) for inconsistent dims and data, Error(Unsupported)
// for a dtype or storage the engine does not read (strings, external data).
// Errors name the tensor; the caller adds the file.
Tensor tensor_from_proto(const onnx::TensorProto& proto);

// The DType of an ONNX element type code, nullopt for those we do not read.
std::optional<DType> dtype_from_onnx(std::int32_t elem_type);
std::string onnx_elem_type_name(std::int32_t elem_type);

}  // namespace pt2onnx::runtime
