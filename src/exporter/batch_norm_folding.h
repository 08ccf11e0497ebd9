// Eval-mode BatchNorm folded into the convolution before it, as torch.onnx's
// constant folding does: y = gamma * (conv(x) + b - mean) / sqrt(var + eps) + beta
// is conv'(x) with w' = w * s and b' = (b - mean) * s + beta, s = gamma / sqrt(var + eps).
#pragma once

#include "pt2onnx/tensor.h"

namespace pt2onnx::exporter {

struct BatchNormParams {
  const Tensor& weight;        // gamma [C]
  const Tensor& bias;          // beta [C]
  const Tensor& running_mean;  // [C]
  const Tensor& running_var;   // [C]
  double eps = 1e-5;
};

struct FoldedConv {
  Tensor weight;  // [C, ...], float32
  Tensor bias;    // [C], float32
};

// conv_weight is [C, ...]; conv_bias is [C] or null. Computed in double, rounded
// once to float32. Throws Error(ExportFailed) when the channel counts differ or
// var + eps is not positive (the BatchNorm would divide by zero).
FoldedConv fold_batch_norm(const Tensor& conv_weight, const Tensor* conv_bias, const BatchNormParams& bn);

}  // namespace pt2onnx::exporter
