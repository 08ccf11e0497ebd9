// The reshapes: Flatten, Reshape, Squeeze, Unsqueeze, and Identity and
// inference Dropout (removed by remove_identity, or copies when it is off).
// Views of their input's bytes at run time, and evaluated on shapes and
// constants. Rules in reshape.cpp; kernel in kernels/layout_ops.cpp.
#pragma once

#include <array>
#include <vector>

#include "runtime/kernels/kernels.h"
#include "runtime/op_def.h"

namespace pt2onnx::runtime {

std::vector<OutputInfo> infer_flatten(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_reshape(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_squeeze(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_unsqueeze(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_identity(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_dropout(const Graph& g, const Node& n);
// The same elements in the same order, in the output's shape.
std::vector<Tensor> eval_view(const Graph& g, const Node& n);
std::vector<Tensor> eval_dropout(const Graph& g, const Node& n);
void check_dropout_support(const Graph& g, const Node& n, const std::vector<bool>& known);

// Row-major with dim 0 kept, each row keeps its elements: rows stay apart.
inline constexpr std::array kReshapeOps{
    OpDef{.op = OpType::Flatten,
          .name = "Flatten",
          .shape = infer_flatten,
          .kernel = build_reshape,
          .batch_rows = rows_kept_apart_if_inputs_batched,
          .evaluate = eval_view},
    OpDef{.op = OpType::Reshape,
          .name = "Reshape",
          .shape = infer_reshape,
          .kernel = build_reshape,
          .batch_rows = rows_kept_apart_if_inputs_batched,
          .evaluate = eval_view,
          .parameter_inputs = 1},
    OpDef{.op = OpType::Squeeze,
          .name = "Squeeze",
          .shape = infer_squeeze,
          .kernel = build_reshape,
          .batch_rows = rows_kept_apart_if_inputs_batched,
          .evaluate = eval_view,
          .parameter_inputs = 1},
    OpDef{.op = OpType::Unsqueeze,
          .name = "Unsqueeze",
          .shape = infer_unsqueeze,
          .kernel = build_reshape,
          .batch_rows = rows_kept_apart_if_inputs_batched,
          .evaluate = eval_view,
          .parameter_inputs = 1},
    OpDef{.op = OpType::Identity,
          .name = "Identity",
          .shape = infer_identity,
          .kernel = build_reshape,
          .batch_rows = rows_kept_apart_if_inputs_batched,
          .evaluate = eval_view},
    OpDef{.op = OpType::Dropout,
          .name = "Dropout",
          .shape = infer_dropout,
          .kernel = build_reshape,
          .batch_rows = rows_kept_apart_if_inputs_batched,
          .evaluate = eval_dropout,
          .parameter_inputs = 1,
          .support = check_dropout_support},
};

}  // namespace pt2onnx::runtime
