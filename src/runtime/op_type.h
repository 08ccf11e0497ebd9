// The operators the engine knows, as an enum. Each one's definition (ONNX
// name, shape rule, kernel, batch rows, constant evaluation, limits) is one
// record in its family's file under ops/, gathered by op_table.cpp in this
// order (op_def.h). Swish, Gelu, Attention and NormalizedConcat exist only
// inside the engine: the fuse_swish pass makes Swish from x * Sigmoid(x),
// fuse_gelu makes Gelu from x * 0.5 * (1 + Erf(x / sqrt(2))), fuse_attention
// makes Attention from attention's MatMul, scale, bias, Softmax and MatMul,
// fuse_concat_norm makes NormalizedConcat from DenseNet's Concat,
// BatchNormalization (and ReLU).
#pragma once

#include <cstddef>
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
  Gelu,
  Erf,
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
  ReduceMean,
  LayerNormalization,
  // A reorder, or a view when the permuted layout is already dense row-major.
  Transpose,
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
  // Also a kernel (a strided copy) on a computed tensor.
  Slice,
  // Broadcasting (ops/broadcast.h): ConstantOfShape and Equal evaluated on
  // shapes and constants only; Expand and Where also kernels on computed
  // float32 tensors.
  ConstantOfShape,
  Equal,
  Expand,
  Where,
  // Elementwise math (ops/math.h): Mod and Pow evaluated on constants of any
  // numeric dtype and run as kernels on float32; Not on constants only.
  Mod,
  Pow,
  Not,
  // Index arithmetic (ops/index.h): Range on constants only; ScatterND also a
  // kernel on float32 data with its indices known before the run.
  Range,
  ScatterND,
  // Two-operand Einsum as a batched product (ops/einsum.h).
  Einsum,
  // An activation (ops/activation.h).
  Tanh,
  // The engine's own: MatMul, scale, bias, Softmax and MatMul in one kernel
  // (fuse_attention; ops/matmul.h).
  Attention,
  // The engine's own: a channel Concat, the BatchNormalization after it and
  // its ReLU in one pass (fuse_concat_norm; ops/normalization.h).
  NormalizedConcat,
  // Not an operator: the number of them, which sizes the table of definitions.
  Count,
};

inline constexpr std::size_t kOpTypeCount = static_cast<std::size_t>(OpType::Count);

// Read from the table of definitions (op_table.cpp).
std::string_view op_type_name(OpType op);
// nullopt for an operator the engine does not run.
std::optional<OpType> op_type_from_onnx(std::string_view domain, std::string_view name);

// Ops whose every output is a pure function of their inputs' values and
// shapes: those with a constant evaluation, which constant_eval.cpp runs when
// all inputs are known.
bool is_shape_op(OpType op);
// Add, Sub, Mul, Div: numpy broadcasting, one oneDNN binary primitive.
bool is_elementwise_binary(OpType op);
// The activations a producer can take as a post-op (fuse_activation).
bool is_activation(OpType op);

}  // namespace pt2onnx::runtime
