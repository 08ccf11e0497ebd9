// The classifier head a user trained in place of the family's last Linear,
// read from the state dict or described by --head.
//
// Every family ends in a Linear (the "slot": ResNet's fc, EfficientNet's
// classifier.1, VGG's classifier.6 ...). Users replace it, or the Sequential
// holding it, by a Linear of their own output count, by Sequential(Dropout,
// Linear), or by a small MLP. The state dict shows the Linear layers of such
// a replacement (`fc.1.weight`, `classifier.0.weight` and
// `classifier.3.weight`) but not what sits between them, which has no
// parameters: ReLU and Dropout are assumed there (and said in a note), and
// --head names every module of the Sequential for anything else.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "checkpoint/state_dict.h"
#include "nn/layer_graph.h"

namespace pt2onnx::models {

// One module of a head Sequential: Linear, Dropout or an activation.
struct HeadModule {
  nn::LayerKind kind = nn::LayerKind::Linear;
  double dropout = 0.0;   // Dropout's p (recorded only)
  bool identity = false;  // nn.Identity: no layer
};

// --head TEXT: "dropout(0.4),linear,relu,dropout(0.2),linear". Modules:
// linear, dropout or dropout(P), relu, relu6, gelu, silu, sigmoid, hardswish,
// identity. Error(Usage) naming the bad item; the last module must be linear.
std::vector<HeadModule> parse_head_spec(const std::string& text);

struct HeadPlan {
  std::string path;                 // the module the head replaces: "fc", "classifier"
  std::vector<HeadModule> modules;  // its Sequential, in order; a lone Linear has one and no index
  bool sequential = true;
  std::string note;  // what was recognised or assumed, for the user
};

// The head the state dict holds in place of `probe`'s last Linear, when it is
// not that Linear itself; nullopt when it is (or when the graph does not end
// in a Linear). With `spec`, the Sequential it describes, placed at the slot
// or its parent, whichever the state dict's keys are under. Error(Usage) or
// Error(ArchMismatch) when the keys cannot be read as a head.
std::optional<HeadPlan> plan_head(const nn::LayerGraph& probe, const checkpoint::StateDict& state,
                                  const std::optional<std::vector<HeadModule>>& spec);

// The output count of the planned head: its last Linear's weight rows.
std::optional<std::int64_t> head_outputs(const HeadPlan& plan, const checkpoint::StateDict& state);

// Replaces the layers under plan.path (the graph's last ones) by the planned
// head, sized from the state dict, and adds plan.note to the graph's notes.
void apply_head(nn::LayerGraph& graph, const HeadPlan& plan, const checkpoint::StateDict& state);

}  // namespace pt2onnx::models
