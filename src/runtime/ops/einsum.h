// Einsum of two float32 operands (MaxViT's attention writes
// "B G H I D, B G H J D -> B G H I J" and "B G H I J, B G H J D -> B G H I D"):
// each output element is the sum, over the letters absent from the output, of
// the two operands' products. Explicit ("->") and implicit outputs; an
// equation with an ellipsis, a letter repeated within one term (a diagonal) or
// other than two operands is refused with Error(Unsupported). Rules in
// einsum.cpp; kernel in kernels/einsum.cpp.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "runtime/kernels/kernels.h"
#include "runtime/op_def.h"

namespace pt2onnx::runtime {

// An equation taken apart: each operand's letters and the output's, one char
// per axis.
struct EinsumEquation {
  std::vector<std::string> inputs;
  std::string output;
};
// Throws Error(BadInput) for a malformed equation and Error(Unsupported) for
// one outside the forms above.
EinsumEquation parse_einsum(const std::string& equation);

std::vector<OutputInfo> infer_einsum(const Graph& g, const Node& n);
BatchRows einsum_batch_rows(const Graph& g, const Node& n);

inline constexpr std::array kEinsumOps{
    OpDef{.op = OpType::Einsum,
          .name = "Einsum",
          .shape = infer_einsum,
          .kernel = build_einsum,
          .batch_rows = einsum_batch_rows},
};

}  // namespace pt2onnx::runtime
