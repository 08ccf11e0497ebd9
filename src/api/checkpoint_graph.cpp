#include "api/checkpoint_graph.h"

#include <fmt/format.h>

#include "models/heads.h"
#include "models/registry.h"
#include "pt2onnx/error.h"

namespace pt2onnx::api {

nn::LayerGraph checkpoint_graph(const ModelChoice& choice, const checkpoint::StateDict& state, double dropout,
                                const Progress& progress) {
  models::BuildChoices build;
  build.transform_input = choice.transform_input;
  if (!choice.head.empty()) {
    with_error_context("--head", [&] { (void)models::parse_head_spec(choice.head); });
    build.head = choice.head;
  }
  std::string arch = choice.arch;
  if (arch == kAutoArchitecture) {
    const auto detection = models::detect_architecture(state, build.head);
    arch = detection.arch;
    if (progress) progress(fmt::format("Architecture: {} (detected: {})\n", detection.arch, detection.reason));
  }
  nn::LayerGraph graph = models::build_and_bind(arch, state, dropout, build);
  if (choice.interpolate_position_embedding && !choice.image_size) {
    throw Error(ErrorKind::Usage, "--interpolate-position-embedding needs --image-size (the size to resize it for)");
  }
  if (choice.image_size) models::resize_input(graph, *choice.image_size, choice.interpolate_position_embedding);
  if (progress) {
    for (const auto& note : graph.notes) progress(fmt::format("Note: {}\n", note));
  }
  return graph;
}

}  // namespace pt2onnx::api
