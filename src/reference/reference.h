// The verification oracle: a forward pass straight from the bound layer graph,
// with PyTorch's eval-mode semantics, in plain loops with double accumulation.
// Shares no kernels with the runtime and no code with the exporter.
#pragma once

#include "common/tensor.h"
#include "nn/graph.h"

namespace pt2onnx::reference {

// input: float32 [N, C, H, W]; returns float32 [N, num_outputs].
Tensor forward(const nn::Graph& graph, const Tensor& input);

}  // namespace pt2onnx::reference
