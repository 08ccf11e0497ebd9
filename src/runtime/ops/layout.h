// Operators that move elements between positions: Concat, Pad, Transpose,
// Slice, Gather. Also evaluated on shapes and constants (all but Pad). Rules
// in layout.cpp; kernels in kernels/layout_ops.cpp and kernels/pad.cpp.
#pragma once

#include <array>
#include <vector>

#include "runtime/kernels/kernels.h"
#include "runtime/op_def.h"

namespace pt2onnx::runtime {

std::vector<OutputInfo> infer_concat(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_pad(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_transpose(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_slice(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_gather(const Graph& g, const Node& n);
BatchRows concat_batch_rows(const Graph& g, const Node& n);
BatchRows transpose_batch_rows(const Graph& g, const Node& n);
BatchRows slice_batch_rows(const Graph& g, const Node& n);
BatchRows gather_batch_rows(const Graph& g, const Node& n);
std::vector<Tensor> eval_concat(const Graph& g, const Node& n);
std::vector<Tensor> eval_transpose(const Graph& g, const Node& n);
std::vector<Tensor> eval_slice(const Graph& g, const Node& n);
std::vector<Tensor> eval_gather(const Graph& g, const Node& n);
void check_gather_support(const Graph& g, const Node& n, const std::vector<bool>& known);

inline constexpr std::array kLayoutOps{
    OpDef{.op = OpType::Concat,
          .name = "Concat",
          .shape = infer_concat,
          .kernel = build_concat,
          .batch_rows = concat_batch_rows,
          .evaluate = eval_concat},
    OpDef{.op = OpType::Pad,
          .name = "Pad",
          .shape = infer_pad,
          .kernel = build_pad,
          .batch_rows = rows_kept_apart_if_inputs_batched,
          .parameter_inputs = 1},
    OpDef{.op = OpType::Transpose,
          .name = "Transpose",
          .shape = infer_transpose,
          .kernel = build_transpose,
          .batch_rows = transpose_batch_rows,
          .evaluate = eval_transpose},
    OpDef{.op = OpType::Gather,
          .name = "Gather",
          .shape = infer_gather,
          .kernel = build_gather,
          .batch_rows = gather_batch_rows,
          .evaluate = eval_gather,
          .parameter_inputs = 1,
          .support = check_gather_support},
    OpDef{.op = OpType::Slice,
          .name = "Slice",
          .shape = infer_slice,
          .kernel = build_slice,
          .batch_rows = slice_batch_rows,
          .evaluate = eval_slice,
          .parameter_inputs = 1},
};

}  // namespace pt2onnx::runtime
