// torchvision.ops.misc.Conv2dNormActivation: Sequential(Conv2d, BatchNorm2d[, activation])
// registered as <path>.0, <path>.1, <path>.2 — shared by the EfficientNet and
// MobileNet families.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "nn/graph.h"

namespace pt2onnx::models {

struct ConvNormActivation {
  std::int64_t in_channels = 0;
  std::int64_t out_channels = 0;
  std::int64_t kernel = 3;
  std::int64_t stride = 1;
  std::int64_t groups = 1;
  double eps = 1e-5;                                              // the BatchNorm2d's
  std::optional<nn::LayerKind> activation = nn::LayerKind::ReLU;  // nullopt: none
};

// Adds the block reading `input`, returns its output. Padding is torchvision's
// default (kernel - 1) / 2; the conv has no bias since a BatchNorm follows.
nn::ValueId add_conv_norm_activation(nn::Graph& graph, const std::string& path, nn::ValueId input,
                                     const ConvNormActivation& block);

}  // namespace pt2onnx::models
