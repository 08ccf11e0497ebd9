// The building blocks of torchvision.ops.misc that several families share:
// Conv2dNormActivation, Sequential(Conv2d, BatchNorm2d[, activation])
// registered as <path>.0, <path>.1, <path>.2 (EfficientNet, MobileNet,
// RegNet), and SqueezeExcitation (EfficientNet, MobileNet V3, RegNet Y).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "nn/layer_graph.h"

namespace pt2onnx::models {

// The attributes of torch.nn.Conv2d(in, out, kernel, stride, padding,
// groups=groups, bias=bias) with a square kernel and symmetric padding.
nn::Conv2dAttrs conv2d_attrs(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride = 1,
                             std::int64_t padding = 0, std::int64_t groups = 1, bool bias = false);

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
nn::ValueId add_conv_norm_activation(nn::LayerGraph& graph, const std::string& path, nn::ValueId input,
                                     const ConvNormActivation& block);

// torchvision.ops.SqueezeExcitation at `path`: avgpool, fc1 (1x1 conv with
// bias, channels -> squeeze), activation, fc2 (squeeze -> channels),
// scale_activation; returns scale * input, named `path` (its forward()).
nn::ValueId add_squeeze_excitation(nn::LayerGraph& graph, const std::string& path, nn::ValueId input,
                                   std::int64_t channels, std::int64_t squeeze, nn::LayerKind activation,
                                   nn::LayerKind scale_activation);

// GoogLeNet's and Inception V3's BasicConv2d at `path`: conv (no bias),
// bn (eps 0.001), then F.relu, named `path`.relu.
nn::ValueId add_basic_conv2d(nn::LayerGraph& graph, const std::string& path, nn::ValueId input,
                             const nn::Conv2dAttrs& conv);

// GoogLeNet's and Inception V3's _transform_input, which re-normalises an
// ImageNet-normalised image to the [-1, 1] scaling the ported weights expect:
// added when options.transform_input says so or, unset, when the checkpoint has
// no training-only tensors (torchvision's constructors with weights= turn it
// on and drop the auxiliary classifiers; without weights it is off and they
// are kept). Either way graph.notes says which and why. `ctor` names the
// torchvision constructor ("googlenet"). Returns the image to feed the network.
nn::ValueId add_transform_input(nn::LayerGraph& graph, const nn::ModelOptions& options, std::string_view ctor);

}  // namespace pt2onnx::models
