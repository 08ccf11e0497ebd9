// Gemm, MatMul and the engine's own Attention. Rules in matmul.cpp; kernels
// in kernels/matmul.cpp.
#pragma once

#include <array>
#include <vector>

#include "runtime/kernels/kernels.h"
#include "runtime/op_def.h"

namespace pt2onnx::runtime {

std::vector<OutputInfo> infer_gemm(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_matmul(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_attention(const Graph& g, const Node& n);
BatchRows gemm_batch_rows(const Graph& g, const Node& n);
BatchRows matmul_batch_rows(const Graph& g, const Node& n);

inline constexpr std::array kMatMulOps{
    OpDef{.op = OpType::Gemm,
          .name = "Gemm",
          .shape = infer_gemm,
          .kernel = build_gemm,
          .batch_rows = gemm_batch_rows,
          .takes_activation = true},
    OpDef{.op = OpType::MatMul,
          .name = "MatMul",
          .shape = infer_matmul,
          .kernel = build_matmul,
          .batch_rows = matmul_batch_rows,
          .takes_activation = true},
    // Softmax(scale * MatMul(A, B) + bias, last axis) times V, made by
    // fuse_attention; inputs A, B, V and an optional constant bias, attribute
    // `scale`.
    OpDef{.op = OpType::Attention,
          .name = "Attention",
          .onnx = false,
          .shape = infer_attention,
          .kernel = build_attention,
          .batch_rows = rows_mixed},
};

}  // namespace pt2onnx::runtime
