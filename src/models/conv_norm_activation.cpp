#include "models/conv_norm_activation.h"

namespace pt2onnx::models {

nn::ValueId add_conv_norm_activation(nn::Graph& graph, const std::string& path, nn::ValueId input,
                                     const ConvNormActivation& block) {
  nn::Conv2dAttrs conv;
  conv.in_channels = block.in_channels;
  conv.out_channels = block.out_channels;
  conv.kernel[0] = conv.kernel[1] = block.kernel;
  conv.stride[0] = conv.stride[1] = block.stride;
  conv.padding[0] = conv.padding[1] = (block.kernel - 1) / 2;
  conv.groups = block.groups;
  conv.bias = false;
  nn::ValueId x = graph.add(nn::LayerKind::Conv2d, path + ".0", {input}, conv);
  x = graph.add(nn::LayerKind::BatchNorm2d, path + ".1", {x}, nn::BatchNormAttrs{block.out_channels, block.eps});
  if (block.activation) x = graph.add(*block.activation, path + ".2", {x});
  return x;
}

nn::ValueId add_squeeze_excitation(nn::Graph& graph, const std::string& path, nn::ValueId input, std::int64_t channels,
                                   std::int64_t squeeze, nn::LayerKind activation, nn::LayerKind scale_activation) {
  const auto conv1x1 = [](std::int64_t in, std::int64_t out) {
    nn::Conv2dAttrs a;
    a.in_channels = in;
    a.out_channels = out;
    a.bias = true;
    return a;
  };
  nn::ValueId s = graph.add(nn::LayerKind::AdaptiveAvgPool2d, path + ".avgpool", {input});
  s = graph.add(nn::LayerKind::Conv2d, path + ".fc1", {s}, conv1x1(channels, squeeze));
  s = graph.add(activation, path + ".activation", {s});
  s = graph.add(nn::LayerKind::Conv2d, path + ".fc2", {s}, conv1x1(squeeze, channels));
  s = graph.add(scale_activation, path + ".scale_activation", {s});
  return graph.add(nn::LayerKind::Mul, path, {input, s});
}

}  // namespace pt2onnx::models
