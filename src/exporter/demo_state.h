// Deterministic random weights for a layer graph: what `pt2onnx demo-checkpoint`
// saves, and what tests bind to hand-built graphs. The same seed gives the same
// bytes on every run and machine (splitmix64, no std:: distributions, whose
// output is implementation-defined).
#pragma once

#include <cstdint>

#include "checkpoint/state_dict.h"
#include "nn/layer_graph.h"

namespace pt2onnx::exporter {

// Every parameter and buffer graph.expected_state() lists, in that order, with
// each BatchNorm2d's num_batches_tracked (int64 scalar 0) after its running_var,
// as torch's state_dict() has it. Convolutions get He-scaled normal weights,
// Linear layers 1/sqrt(fan_in) ones, BatchNorms gamma near 1, small beta and
// mean, and running_var in [0.5, 1.5], so activations stay of order one.
checkpoint::StateDict demo_state_dict(const nn::LayerGraph& graph, std::uint64_t seed);

// Binds the same values into the graph's layers (layer.params), for graphs
// that no checkpoint describes.
void bind_demo_params(nn::LayerGraph& graph, std::uint64_t seed);

// A bound graph's parameters as a state dict in torch's order, with the
// num_batches_tracked buffers torch's strict loading expects.
checkpoint::StateDict state_dict_of(const nn::LayerGraph& graph);

}  // namespace pt2onnx::exporter
