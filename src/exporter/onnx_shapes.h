// Readable names for ONNX types and shapes, shared by the checks and the summary.
#pragma once

#include <string>

#include "onnx/onnx_pb.h"

namespace pt2onnx::exporter {

// "[batch, 3, 224, 224]"; "?" for a dimension with neither value nor name;
// "unknown" when the type carries no shape at all.
std::string describe_shape(const onnx::TypeProto& type);
// "float32", "int64", ...: PyTorch's names, as pt2onnx uses everywhere.
std::string describe_elem_type(std::int32_t elem_type);

}  // namespace pt2onnx::exporter
