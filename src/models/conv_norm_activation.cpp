#include "models/conv_norm_activation.h"

namespace pt2onnx::models {

nn::Conv2dAttrs conv2d_attrs(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride,
                             std::int64_t padding, std::int64_t groups, bool bias) {
  nn::Conv2dAttrs a;
  a.in_channels = in;
  a.out_channels = out;
  a.kernel[0] = a.kernel[1] = kernel;
  a.stride[0] = a.stride[1] = stride;
  a.padding[0] = a.padding[1] = padding;
  a.groups = groups;
  a.bias = bias;
  return a;
}

nn::ValueId add_conv_norm_activation(nn::Graph& graph, const std::string& path, nn::ValueId input,
                                     const ConvNormActivation& block) {
  const auto conv = conv2d_attrs(block.in_channels, block.out_channels, block.kernel, block.stride,
                                 (block.kernel - 1) / 2, block.groups);
  nn::ValueId x = graph.add(nn::LayerKind::Conv2d, path + ".0", {input}, conv);
  x = graph.add(nn::LayerKind::BatchNorm2d, path + ".1", {x}, nn::BatchNormAttrs{block.out_channels, block.eps});
  if (block.activation) x = graph.add(*block.activation, path + ".2", {x});
  return x;
}

nn::ValueId add_squeeze_excitation(nn::Graph& graph, const std::string& path, nn::ValueId input, std::int64_t channels,
                                   std::int64_t squeeze, nn::LayerKind activation, nn::LayerKind scale_activation) {
  nn::ValueId s = graph.add(nn::LayerKind::AdaptiveAvgPool2d, path + ".avgpool", {input});
  s = graph.add(nn::LayerKind::Conv2d, path + ".fc1", {s}, conv2d_attrs(channels, squeeze, 1, 1, 0, 1, true));
  s = graph.add(activation, path + ".activation", {s});
  s = graph.add(nn::LayerKind::Conv2d, path + ".fc2", {s}, conv2d_attrs(squeeze, channels, 1, 1, 0, 1, true));
  s = graph.add(scale_activation, path + ".scale_activation", {s});
  return graph.add(nn::LayerKind::Mul, path, {input, s});
}

}  // namespace pt2onnx::models
