// The operators the engine knows, as an enum; ONNX names map onto it through
// one explicit table (op_type.cpp). Swish exists only inside the engine: the
// fuse_swish pass makes it from x * Sigmoid(x).
#pragma once

#include <optional>
#include <string_view>

namespace pt2onnx::runtime {

enum class OpType {
  // Kernels.
  Conv,
  BatchNormalization,
  Relu,
  Clip,
  Sigmoid,
  HardSigmoid,
  HardSwish,
  Swish,
  Add,
  Sub,
  Mul,
  Div,
  GlobalAveragePool,
  AveragePool,
  MaxPool,
  Gemm,
  MatMul,
  Concat,
  Softmax,
  Pad,
  // Layout-free reshapes: views of their input at run time.
  Flatten,
  Reshape,
  Squeeze,
  Unsqueeze,
  // Removed by remove_identity, or run as copies when switched off.
  Identity,
  Dropout,
  // Shape computations: evaluated once shapes are known.
  Shape,
  Gather,
  Cast,
  Slice,
};

std::string_view op_type_name(OpType op);
// nullopt for an operator the engine does not run.
std::optional<OpType> op_type_from_onnx(std::string_view domain, std::string_view name);

// Ops whose every output is a pure function of their inputs' values and
// shapes; constant_eval.cpp evaluates them when all inputs are known.
bool is_shape_op(OpType op);
bool is_elementwise_binary(OpType op);
bool is_activation(OpType op);

}  // namespace pt2onnx::runtime
