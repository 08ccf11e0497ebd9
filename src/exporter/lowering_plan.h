// Decisions made over the whole layer graph before any ONNX node is emitted:
// which layers vanish in eval mode (their output aliases their input), which
// BatchNorms fold into the Conv before them, and what each tensor is called.
// Planning first keeps every per-layer lowering a local, one-layer affair.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "nn/layer_graph.h"

namespace pt2onnx::exporter {

inline constexpr const char* kInputName = "image";    // the seed's input_names
inline constexpr const char* kOutputName = "logits";  // the seed's output_names

struct LoweringPlan {
  // Per value: the value it really is once eval-mode identities are removed.
  std::vector<nn::ValueId> canonical;
  // Per canonical value: its ONNX tensor name. The graph input is "image", the
  // graph output "logits", every other value the module path of its producer.
  std::vector<std::string> value_names;
  // Per layer: emits no node (an eval-mode identity, or a BatchNorm folded away).
  std::vector<bool> skipped;
  // Per layer: for a Conv2d, the index of the BatchNorm2d folded into it.
  std::vector<std::optional<std::size_t>> folded_batch_norm;
};

// Throws Error(ExportFailed) for a graph that cannot be lowered as a whole (a
// layer kind with the wrong input count, an output that is the input itself).
LoweringPlan plan_lowering(const nn::LayerGraph& graph);

// Layers that are identities in eval mode and so become no node at all.
bool is_eval_identity(nn::LayerKind kind);

}  // namespace pt2onnx::exporter
