// Conv and the pools: windows over [N, C, spatial...] with 1 to 3 spatial
// dims. Rules in conv_pool.cpp; kernels in kernels/conv.cpp and
// kernels/pooling.cpp.
#pragma once

#include <array>
#include <vector>

#include "runtime/kernels/kernels.h"
#include "runtime/op_def.h"

namespace pt2onnx::runtime {

std::vector<OutputInfo> infer_conv(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_pool(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_global_pool(const Graph& g, const Node& n);
void check_conv_support(const Graph& g, const Node& n, const std::vector<bool>& known);
void check_max_pool_support(const Graph& g, const Node& n, const std::vector<bool>& known);

inline constexpr std::array kConvPoolOps{
    OpDef{.op = OpType::Conv,
          .name = "Conv",
          .shape = infer_conv,
          .kernel = build_conv,
          .batch_rows = rows_kept_apart_if_inputs_batched,
          .support = check_conv_support,
          .takes_activation = true},
    OpDef{.op = OpType::GlobalAveragePool,
          .name = "GlobalAveragePool",
          .shape = infer_global_pool,
          .kernel = build_global_average_pool,
          .batch_rows = rows_kept_apart_if_inputs_batched},
    OpDef{.op = OpType::AveragePool,
          .name = "AveragePool",
          .shape = infer_pool,
          .kernel = build_pool,
          .batch_rows = rows_kept_apart_if_inputs_batched},
    OpDef{.op = OpType::MaxPool,
          .name = "MaxPool",
          .shape = infer_pool,
          .kernel = build_pool,
          .batch_rows = rows_kept_apart_if_inputs_batched,
          .support = check_max_pool_support},
};

}  // namespace pt2onnx::runtime
