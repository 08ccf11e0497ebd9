// The verification oracle: a forward pass straight from the bound layer graph,
// with PyTorch's eval-mode semantics, in plain loops with double accumulation.
// Shares no kernels with the runtime and no code with the exporter.
#pragma once

#include "common/tensor.h"
#include "nn/graph.h"

namespace pt2onnx::reference {

// input: float32 [N, C, H, W]; returns float32 [N, num_outputs].
Tensor forward(const nn::Graph& graph, const Tensor& input);

// Sets every BatchNorm's running statistics to the statistics of its input over
// this batch (what PyTorch's train mode records after one batch with momentum
// None), layer by layer, so that a network with random weights keeps its
// activations at the scale a trained one has. Used for demo checkpoints.
void calibrate_batch_norm(nn::Graph& graph, const Tensor& input);

}  // namespace pt2onnx::reference
