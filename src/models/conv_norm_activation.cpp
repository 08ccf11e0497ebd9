#include "models/conv_norm_activation.h"

#include <vector>

#include <fmt/format.h>

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

nn::ValueId add_conv_norm_activation(nn::LayerGraph& graph, const std::string& path, nn::ValueId input,
                                     const ConvNormActivation& block) {
  const auto conv = conv2d_attrs(block.in_channels, block.out_channels, block.kernel, block.stride,
                                 (block.kernel - 1) / 2, block.groups);
  nn::ValueId x = graph.add(nn::LayerKind::Conv2d, path + ".0", {input}, conv);
  x = graph.add(nn::LayerKind::BatchNorm2d, path + ".1", {x}, nn::BatchNormAttrs{block.out_channels, block.eps});
  if (block.activation) x = graph.add(*block.activation, path + ".2", {x});
  return x;
}

nn::ValueId add_squeeze_excitation(nn::LayerGraph& graph, const std::string& path, nn::ValueId input,
                                   std::int64_t channels, std::int64_t squeeze, nn::LayerKind activation,
                                   nn::LayerKind scale_activation) {
  nn::ValueId s = graph.add(nn::LayerKind::AdaptiveAvgPool2d, path + ".avgpool", {input});
  s = graph.add(nn::LayerKind::Conv2d, path + ".fc1", {s}, conv2d_attrs(channels, squeeze, 1, 1, 0, 1, true));
  s = graph.add(activation, path + ".activation", {s});
  s = graph.add(nn::LayerKind::Conv2d, path + ".fc2", {s}, conv2d_attrs(squeeze, channels, 1, 1, 0, 1, true));
  s = graph.add(scale_activation, path + ".scale_activation", {s});
  return graph.add(nn::LayerKind::Mul, path, {input, s});
}

nn::ValueId add_basic_conv2d(nn::LayerGraph& graph, const std::string& path, nn::ValueId input,
                             const nn::Conv2dAttrs& conv) {
  constexpr double kBasicConvEps = 1e-3;
  nn::ValueId x = graph.add(nn::LayerKind::Conv2d, path + ".conv", {input}, conv);
  x = graph.add(nn::LayerKind::BatchNorm2d, path + ".bn", {x}, nn::BatchNormAttrs{conv.out_channels, kBasicConvEps});
  return graph.add(nn::LayerKind::ReLU, path + ".relu", {x});
}

nn::ValueId add_transform_input(nn::LayerGraph& graph, const nn::ModelOptions& options, std::string_view ctor) {
  const bool on = options.transform_input.value_or(!options.has_training_only_tensors);
  std::string why;
  if (options.transform_input) {
    why = "as --transform-input asks";
  } else if (on) {
    why = fmt::format(
        "the checkpoint has no auxiliary classifiers, as when {}(weights=...) is fine-tuned, which sets "
        "transform_input=True; if the model was built with transform_input=False, export with --transform-input off",
        ctor);
  } else {
    why = fmt::format(
        "the checkpoint has auxiliary classifiers, as {}() builds without weights, with transform_input=False; if "
        "the model was built with transform_input=True, export with --transform-input on",
        ctor);
  }
  graph.notes.push_back(fmt::format("transform_input is {}: {}", on ? "on" : "off", why));
  if (!on) return graph.input;
  // x_ch = x[:, ch] * (std_ch / 0.5) + (mean_ch - 0.5) / 0.5 with ImageNet's mean and std.
  constexpr double kHalf = 0.5;
  const std::vector<double> mean{0.485, 0.456, 0.406}, std{0.229, 0.224, 0.225};
  nn::ChannelAffineAttrs a;
  for (std::size_t c = 0; c < mean.size(); ++c) {
    a.scale.push_back(std[c] / kHalf);
    a.shift.push_back((mean[c] - kHalf) / kHalf);
  }
  return graph.add(nn::LayerKind::ChannelAffine, "transform_input", {graph.input}, std::move(a));
}

}  // namespace pt2onnx::models
