// Elementwise math that torch.onnx.export writes for Swin's shifted windows
// and relative positions: Mod, Pow (numpy broadcasting) and Not. Mod and Pow
// are evaluated on constants of any numeric dtype and run as kernels on
// float32 (Pow's exponent may be any numeric constant); Not is evaluated on
// Bool constants only, Bool having no place among the float32 tensors the
// engine computes. Rules in math.cpp; kernels in kernels/math.cpp.
#pragma once

#include <array>
#include <vector>

#include "runtime/kernels/kernels.h"
#include "runtime/op_def.h"

namespace pt2onnx::runtime {

std::vector<OutputInfo> infer_mod(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_pow(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_not(const Graph& g, const Node& n);
BatchRows math_batch_rows(const Graph& g, const Node& n);
std::vector<Tensor> eval_mod(const Graph& g, const Node& n);
std::vector<Tensor> eval_pow(const Graph& g, const Node& n);
std::vector<Tensor> eval_not(const Graph& g, const Node& n);
void check_mod_support(const Graph& g, const Node& n, const std::vector<bool>& known);
void check_pow_support(const Graph& g, const Node& n, const std::vector<bool>& known);

inline constexpr std::array kMathOps{
    OpDef{.op = OpType::Mod,
          .name = "Mod",
          .shape = infer_mod,
          .kernel = build_mod,
          .batch_rows = math_batch_rows,
          .evaluate = eval_mod,
          .support = check_mod_support},
    OpDef{.op = OpType::Pow,
          .name = "Pow",
          .shape = infer_pow,
          .kernel = build_pow,
          .batch_rows = math_batch_rows,
          .evaluate = eval_pow,
          .support = check_pow_support},
    OpDef{.op = OpType::Not, .name = "Not", .shape = infer_not, .batch_rows = rows_mixed, .evaluate = eval_not},
};

}  // namespace pt2onnx::runtime
