// Architecture builders, one per family (efficientnet.cpp, resnet.cpp, ...),
// listed explicitly in registry.cpp.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checkpoint/state_dict.h"
#include "nn/layer_graph.h"
#include "pt2onnx/export.h"

namespace pt2onnx::models {

// Names accepted by --arch, e.g. "efficientnet_b0".
std::vector<std::string> architectures();

// How people write the architecture's name: "efficientnet_b0" ->
// "EfficientNet-B0", "resnet18" -> "ResNet-18"; a name no family here builds
// is shown as it is.
std::string display_name(std::string_view arch);

// What --arch takes by default: identify the architecture from the checkpoint
// (defined in the public API, pt2onnx/export.h).
using pt2onnx::kAutoArchitecture;

// The architecture a state dict was trained as, found from its key names and
// shapes alone, and why ("all 102 tensors fit; no other architecture's do").
// Throws Error(ArchMismatch) listing the candidates when several fit, and
// Error(Unsupported) when none does, naming the nearest family, what differs,
// and the route that works today (torch.onnx.export, then pt2onnx run).
struct Detection {
  std::string arch;
  std::string reason;
};
Detection detect_architecture(const checkpoint::StateDict& state, const std::optional<std::string>& head = {});

// The unbound layer graph. Throws Error(Usage) for an unknown name.
nn::LayerGraph build(std::string_view arch, const nn::ModelOptions& options);

// Builds `arch` with num_outputs read from the state dict's classifier (and
// transform_input, where the family has it, from the user or the checkpoint),
// binds it (nn::bind), and on a mismatch names the registered architecture the
// keys fit instead ("this looks like efficientnet_b1"). Throws
// Error(ArchMismatch). What it decided on the way is in the graph's notes.
// What the user says about the model beyond its architecture's name.
struct BuildChoices {
  std::optional<bool> transform_input;  // GoogLeNet, Inception V3 (--transform-input)
  std::optional<std::string> head;      // --head's description of the classifier head
};
nn::LayerGraph build_and_bind(std::string_view arch, const checkpoint::StateDict& state, double dropout,
                              const BuildChoices& choices = {});

// Sets the bound graph's square input size to `size`: Error(Usage) when a
// layer's output would be empty at that size. A ViT's position embedding fits
// only its trained size:
// Error(Usage) saying so, unless `interpolate`, which resizes it to the new
// patch grid (bicubic, corners aligned, as torchvision's interpolate_embeddings);
// the size must then be a multiple of the patch. Adds a note of what changed.
void resize_input(nn::LayerGraph& graph, std::int64_t size, bool interpolate);

}  // namespace pt2onnx::models
