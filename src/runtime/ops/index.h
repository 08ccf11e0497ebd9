// Index arithmetic that torch.onnx.export writes for Swin's attention mask and
// relative position index: Range (evaluated on constants only, its length
// being a value) and ScatterND (evaluated on constants of any dtype, and a
// kernel on float32 data whose indices are known before the run). Rules in
// index.cpp; kernel in kernels/scatter.cpp.
#pragma once

#include <array>
#include <vector>

#include "runtime/kernels/kernels.h"
#include "runtime/op_def.h"

namespace pt2onnx::runtime {

std::vector<OutputInfo> infer_range(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_scatter_nd(const Graph& g, const Node& n);
std::vector<Tensor> eval_range(const Graph& g, const Node& n);
std::vector<Tensor> eval_scatter_nd(const Graph& g, const Node& n);
void check_scatter_nd_support(const Graph& g, const Node& n, const std::vector<bool>& known);

// ScatterND's reduction attribute (opset 16 and 18): how an update meets the
// element it lands on.
enum class ScatterReduction { None, Add, Mul, Max, Min };
ScatterReduction scatter_reduction(const Node& n);
// Where ScatterND's updates go: per index tuple (row of `indices`, last axis
// k), the offset of its slice in the data and the slice's element count.
// Negative indices count from the end; throws Error(BadInput) for one out of
// range or shapes that do not fit the spec.
struct ScatterPlan {
  std::vector<std::int64_t> offsets;
  std::int64_t slice = 1;
};
ScatterPlan scatter_plan(const Shape& data, const Tensor& indices, const Shape& updates);

inline constexpr std::array kIndexOps{
    OpDef{.op = OpType::Range, .name = "Range", .shape = infer_range, .batch_rows = rows_mixed, .evaluate = eval_range},
    OpDef{.op = OpType::ScatterND,
          .name = "ScatterND",
          .shape = infer_scatter_nd,
          .kernel = build_scatter_nd,
          .batch_rows = rows_mixed,
          .evaluate = eval_scatter_nd,
          .support = check_scatter_nd_support},
};

}  // namespace pt2onnx::runtime
