#include "runtime/op_type.h"

#include <array>
#include <utility>

namespace pt2onnx::runtime {
namespace {

struct OpName {
  OpType op;
  std::string_view name;
  bool onnx = true;  // false: internal to the engine, made by a pass
};

// The ONNX operators the engine runs (default domain). Adding one takes: its
// OpType (op_type.h), a row here, a shape rule (shape_inference*.cpp), a
// kernel (kernels/*.cpp) and its line in kernels/kernel_table.cpp, its entry in
// batch_split.cpp (does it keep a batch's images apart?), any limits in
// support.cpp, and for an activation that convolutions can fuse, pass_util.cpp;
// then tests against tests/runtime/naive_ops.h (docs/architecture.md, "Where
// to add").
constexpr std::array kOps{
    OpName{OpType::Conv, "Conv"},
    OpName{OpType::BatchNormalization, "BatchNormalization"},
    OpName{OpType::Relu, "Relu"},
    OpName{OpType::Clip, "Clip"},
    OpName{OpType::Sigmoid, "Sigmoid"},
    OpName{OpType::HardSigmoid, "HardSigmoid"},
    OpName{OpType::HardSwish, "HardSwish"},
    OpName{OpType::Swish, "Swish", false},
    OpName{OpType::Gelu, "Gelu", false},
    OpName{OpType::Erf, "Erf"},
    OpName{OpType::Add, "Add"},
    OpName{OpType::Sub, "Sub"},
    OpName{OpType::Mul, "Mul"},
    OpName{OpType::Div, "Div"},
    OpName{OpType::GlobalAveragePool, "GlobalAveragePool"},
    OpName{OpType::AveragePool, "AveragePool"},
    OpName{OpType::MaxPool, "MaxPool"},
    OpName{OpType::Gemm, "Gemm"},
    OpName{OpType::MatMul, "MatMul"},
    OpName{OpType::Concat, "Concat"},
    OpName{OpType::Softmax, "Softmax"},
    OpName{OpType::Pad, "Pad"},
    OpName{OpType::ReduceMean, "ReduceMean"},
    OpName{OpType::LayerNormalization, "LayerNormalization"},
    OpName{OpType::Transpose, "Transpose"},
    OpName{OpType::Flatten, "Flatten"},
    OpName{OpType::Reshape, "Reshape"},
    OpName{OpType::Squeeze, "Squeeze"},
    OpName{OpType::Unsqueeze, "Unsqueeze"},
    OpName{OpType::Identity, "Identity"},
    OpName{OpType::Dropout, "Dropout"},
    OpName{OpType::Shape, "Shape"},
    OpName{OpType::Gather, "Gather"},
    OpName{OpType::Cast, "Cast"},
    OpName{OpType::Slice, "Slice"},
};

}  // namespace

std::string_view op_type_name(OpType op) {
  for (const auto& o : kOps) {
    if (o.op == op) return o.name;
  }
  return "?";
}

std::optional<OpType> op_type_from_onnx(std::string_view domain, std::string_view name) {
  if (!domain.empty() && domain != "ai.onnx") return std::nullopt;
  for (const auto& o : kOps) {
    if (o.onnx && o.name == name) return o.op;
  }
  return std::nullopt;
}

bool is_shape_op(OpType op) {
  switch (op) {
    case OpType::Shape:
    case OpType::Gather:
    case OpType::Cast:
    case OpType::Slice:
    case OpType::Squeeze:
    case OpType::Unsqueeze:
    case OpType::Concat:
    case OpType::Reshape:
    case OpType::Flatten:
    case OpType::Identity:
    case OpType::Dropout:
    case OpType::Transpose:
    case OpType::Add:
    case OpType::Sub:
    case OpType::Mul:
    case OpType::Div:
      return true;
    default:
      return false;
  }
}

bool is_elementwise_binary(OpType op) {
  return op == OpType::Add || op == OpType::Sub || op == OpType::Mul || op == OpType::Div;
}

bool is_activation(OpType op) {
  switch (op) {
    case OpType::Relu:
    case OpType::Clip:
    case OpType::Sigmoid:
    case OpType::HardSigmoid:
    case OpType::HardSwish:
    case OpType::Swish:
    case OpType::Gelu:
      return true;
    default:
      return false;
  }
}

}  // namespace pt2onnx::runtime
