// The layer graph of a checkpoint, as export and verify both need it.
#pragma once

#include "checkpoint/state_dict.h"
#include "nn/layer_graph.h"
#include "pt2onnx/export.h"

namespace pt2onnx::api {

// The architecture `choice` names, or the one identified from the state dict
// (models::detect_architecture) with "Architecture: NAME (detected: why)" said
// on `progress`; built and bound with the choice's head and transform_input,
// and each of the graph's notes said as "Note: ...".
nn::LayerGraph checkpoint_graph(const ModelChoice& choice, const checkpoint::StateDict& state, double dropout,
                                const Progress& progress);

}  // namespace pt2onnx::api
