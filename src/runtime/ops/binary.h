// The elementwise binary operators Add, Sub, Mul, Div (numpy broadcasting).
// Rules in binary.cpp; kernel in kernels/binary.cpp.
#pragma once

#include <array>
#include <vector>

#include "runtime/kernels/kernels.h"
#include "runtime/op_def.h"

namespace pt2onnx::runtime {

std::vector<OutputInfo> infer_binary(const Graph& g, const Node& n);
BatchRows binary_batch_rows(const Graph& g, const Node& n);
std::vector<Tensor> eval_binary(const Graph& g, const Node& n);

inline constexpr OpDef binary_op(OpType op, std::string_view name) {
  return OpDef{.op = op,
               .name = name,
               .shape = infer_binary,
               .kernel = build_binary,
               .batch_rows = binary_batch_rows,
               .evaluate = eval_binary,
               .elementwise_binary = true,
               .takes_activation = true};
}

inline constexpr std::array kBinaryOps{
    binary_op(OpType::Add, "Add"),
    binary_op(OpType::Sub, "Sub"),
    binary_op(OpType::Mul, "Mul"),
    binary_op(OpType::Div, "Div"),
};

}  // namespace pt2onnx::runtime
