// Operators built on numpy broadcasting that torch.onnx.export writes for
// `x.expand(n, -1, -1)` (a vision transformer's class token): ConstantOfShape,
// Equal, Expand, Where. ConstantOfShape and Equal are evaluated on shapes and
// constants only (Equal's Bool result has no place among the float32 tensors
// the engine computes); Expand and Where fold the same way when their inputs
// are known and otherwise run as kernels on float32 data: Expand with its
// shape known before the run, Where with its condition known before the run.
// Rules in broadcast.cpp; kernels in kernels/broadcast.cpp.
#pragma once

#include <array>
#include <vector>

#include "runtime/kernels/kernels.h"
#include "runtime/op_def.h"

namespace pt2onnx::runtime {

std::vector<OutputInfo> infer_constant_of_shape(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_equal(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_expand(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_where(const Graph& g, const Node& n);
BatchRows expand_batch_rows(const Graph& g, const Node& n);
BatchRows where_batch_rows(const Graph& g, const Node& n);
std::vector<Tensor> eval_constant_of_shape(const Graph& g, const Node& n);
std::vector<Tensor> eval_equal(const Graph& g, const Node& n);
std::vector<Tensor> eval_expand(const Graph& g, const Node& n);
std::vector<Tensor> eval_where(const Graph& g, const Node& n);
void check_where_support(const Graph& g, const Node& n, const std::vector<bool>& known);

inline constexpr std::array kBroadcastOps{
    OpDef{.op = OpType::ConstantOfShape,
          .name = "ConstantOfShape",
          .shape = infer_constant_of_shape,
          .batch_rows = rows_mixed,
          .evaluate = eval_constant_of_shape},
    OpDef{.op = OpType::Equal, .name = "Equal", .shape = infer_equal, .batch_rows = rows_mixed, .evaluate = eval_equal},
    OpDef{.op = OpType::Expand,
          .name = "Expand",
          .shape = infer_expand,
          .kernel = build_expand,
          .batch_rows = expand_batch_rows,
          .evaluate = eval_expand,
          .parameter_inputs = 1},
    OpDef{.op = OpType::Where,
          .name = "Where",
          .shape = infer_where,
          .kernel = build_where,
          .batch_rows = where_batch_rows,
          .evaluate = eval_where,
          .support = check_where_support},
};

}  // namespace pt2onnx::runtime
