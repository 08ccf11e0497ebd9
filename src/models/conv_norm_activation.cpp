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

}  // namespace pt2onnx::models
