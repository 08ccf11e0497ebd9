// Operators that normalise or reduce along axes: BatchNormalization,
// LayerNormalization, Softmax, ReduceMean, and the engine's own
// NormalizedConcat. Rules in normalization.cpp; kernels in
// kernels/eltwise.cpp, kernels/reductions.cpp and kernels/layout_ops.cpp
// (Softmax).
#pragma once

#include <array>
#include <vector>

#include "runtime/kernels/kernels.h"
#include "runtime/op_def.h"

namespace pt2onnx::runtime {

std::vector<OutputInfo> infer_batch_norm(const Graph& g, const Node& n);
// NormalizedConcat: inputs are the pieces, then scale, B, mean and variance
// over all their channels; the output is the pieces joined on axis 1.
std::vector<OutputInfo> infer_normalized_concat(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_layer_norm(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_softmax(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_reduce_mean(const Graph& g, const Node& n);
BatchRows layer_norm_batch_rows(const Graph& g, const Node& n);
BatchRows softmax_batch_rows(const Graph& g, const Node& n);
BatchRows reduce_mean_batch_rows(const Graph& g, const Node& n);
void check_batch_norm_support(const Graph& g, const Node& n, const std::vector<bool>& known);
void check_layer_norm_support(const Graph& g, const Node& n, const std::vector<bool>& known);

inline constexpr std::array kNormalizationOps{
    OpDef{.op = OpType::BatchNormalization,
          .name = "BatchNormalization",
          .shape = infer_batch_norm,
          .kernel = build_batch_norm,
          .batch_rows = rows_kept_apart_if_inputs_batched,
          .support = check_batch_norm_support,
          .takes_activation = true},
    OpDef{.op = OpType::Softmax,
          .name = "Softmax",
          .shape = infer_softmax,
          .kernel = build_softmax,
          .batch_rows = softmax_batch_rows},
    OpDef{.op = OpType::ReduceMean,
          .name = "ReduceMean",
          .shape = infer_reduce_mean,
          .kernel = build_reduce_mean,
          .batch_rows = reduce_mean_batch_rows,
          .parameter_inputs = 1},
    OpDef{.op = OpType::LayerNormalization,
          .name = "LayerNormalization",
          .shape = infer_layer_norm,
          .kernel = build_layer_norm,
          .batch_rows = layer_norm_batch_rows,
          .support = check_layer_norm_support},
    OpDef{.op = OpType::NormalizedConcat,
          .name = "NormalizedConcat",
          .onnx = false,
          .shape = infer_normalized_concat,
          .kernel = build_normalized_concat,
          .batch_rows = rows_kept_apart_if_inputs_batched,
          .takes_activation = true},
};

}  // namespace pt2onnx::runtime
