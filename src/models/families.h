// The registry's view of the model families: each family file lists its
// architectures through one register_* function, called from registry.cpp.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "checkpoint/state_dict.h"
#include "nn/layer_graph.h"

namespace pt2onnx::models {

struct Architecture {
  std::string name;          // as torchvision.models names the constructor: "efficientnet_b0"
  std::string display_name;  // as people write it: "EfficientNet-B0"
  std::string family;        // "EfficientNet"
  std::function<nn::LayerGraph(const nn::ModelOptions&)> build;
  // The image size the checkpoint's tensors say it was trained at, for a
  // family whose graph depends on it (ViT's position embedding); unset or
  // nullopt: the family's default.
  std::function<std::optional<std::int64_t>(const checkpoint::StateDict&)> trained_size = nullptr;
};

// Registers every row of a family's variant table (each with `name` and
// `display`), built by build(row, options). The rows must outlive the
// registry (the tables are static).
template <typename Variants, typename Build>
void register_variants(std::vector<Architecture>& out, const Variants& variants, const std::string& family,
                       Build build) {
  for (const auto& v : variants) {
    out.push_back({std::string(v.name), std::string(v.display), family,
                   [&v, build](const nn::ModelOptions& o) { return build(v, o); }});
  }
}

void register_efficientnet(std::vector<Architecture>& out);
void register_resnet(std::vector<Architecture>& out);
void register_mobilenet(std::vector<Architecture>& out);
void register_regnet(std::vector<Architecture>& out);
void register_densenet(std::vector<Architecture>& out);
void register_squeezenet(std::vector<Architecture>& out);
void register_mnasnet(std::vector<Architecture>& out);
void register_alexnet(std::vector<Architecture>& out);
void register_vgg(std::vector<Architecture>& out);
void register_googlenet(std::vector<Architecture>& out);
void register_inception(std::vector<Architecture>& out);
void register_shufflenet(std::vector<Architecture>& out);
void register_convnext(std::vector<Architecture>& out);
void register_vit(std::vector<Architecture>& out);
void register_swin(std::vector<Architecture>& out);
void register_maxvit(std::vector<Architecture>& out);

// A bound ViT graph at another square input size: its position embedding
// resized to the new patch grid (bicubic, corners aligned, as torchvision's
// interpolate_embeddings) and the token layers' lengths updated. Error(Usage)
// when `size` is not a multiple of the patch.
void resize_vit_position_embedding(nn::LayerGraph& graph, std::int64_t size);

}  // namespace pt2onnx::models
