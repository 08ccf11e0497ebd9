#include "nn/layer_graph.h"

#include "pt2onnx/error.h"

namespace pt2onnx::nn {

std::string_view layer_kind_name(LayerKind kind) {
  switch (kind) {
    case LayerKind::Conv2d:
      return "Conv2d";
    case LayerKind::BatchNorm2d:
      return "BatchNorm2d";
    case LayerKind::ReLU:
      return "ReLU";
    case LayerKind::ReLU6:
      return "ReLU6";
    case LayerKind::SiLU:
      return "SiLU";
    case LayerKind::Sigmoid:
      return "Sigmoid";
    case LayerKind::Hardswish:
      return "Hardswish";
    case LayerKind::Hardsigmoid:
      return "Hardsigmoid";
    case LayerKind::AdaptiveAvgPool2d:
      return "AdaptiveAvgPool2d";
    case LayerKind::MaxPool2d:
      return "MaxPool2d";
    case LayerKind::AvgPool2d:
      return "AvgPool2d";
    case LayerKind::Concat:
      return "Concat";
    case LayerKind::Mul:
      return "Mul";
    case LayerKind::Add:
      return "Add";
    case LayerKind::Flatten:
      return "Flatten";
    case LayerKind::Dropout:
      return "Dropout";
    case LayerKind::StochasticDepth:
      return "StochasticDepth";
    case LayerKind::Linear:
      return "Linear";
    case LayerKind::ChannelAffine:
      return "ChannelAffine";
    case LayerKind::ChannelSlice:
      return "ChannelSlice";
    case LayerKind::ChannelShuffle:
      return "ChannelShuffle";
    case LayerKind::LayerNorm2d:
      return "LayerNorm2d";
    case LayerKind::PointwiseLinear:
      return "PointwiseLinear";
    case LayerKind::GELU:
      return "GELU";
    case LayerKind::LayerScale:
      return "LayerScale";
  }
  return "?";
}

bool input_count_fits(LayerKind kind, std::size_t count) {
  switch (kind) {
    case LayerKind::Mul:
    case LayerKind::Add:
      return count == 2;
    case LayerKind::Concat:
      return count >= 1;
    default:
      return count == 1;
  }
}

std::string_view expected_input_count(LayerKind kind) {
  switch (kind) {
    case LayerKind::Mul:
    case LayerKind::Add:
      return "2";
    case LayerKind::Concat:
      return "1 or more";
    default:
      return "1";
  }
}

std::vector<ParamSpec> Layer::expected_params() const {
  std::vector<ParamSpec> specs;
  switch (kind) {
    case LayerKind::Conv2d: {
      const auto& a = as<Conv2dAttrs>();
      specs.push_back({"weight", {a.out_channels, a.in_channels / a.groups, a.kernel[0], a.kernel[1]}, false});
      if (a.bias) specs.push_back({"bias", {a.out_channels}, false});
      break;
    }
    case LayerKind::BatchNorm2d: {
      const auto n = as<BatchNormAttrs>().num_features;
      specs.push_back({"weight", {n}, false});
      specs.push_back({"bias", {n}, false});
      specs.push_back({"running_mean", {n}, true});
      specs.push_back({"running_var", {n}, true});
      break;
    }
    case LayerKind::LayerNorm2d: {
      const auto n = as<LayerNormAttrs>().channels;
      specs.push_back({"weight", {n}, false});
      specs.push_back({"bias", {n}, false});
      break;
    }
    case LayerKind::LayerScale:
      specs.push_back({"layer_scale", {as<LayerScaleAttrs>().channels, 1, 1}, false});
      break;
    case LayerKind::Linear:
    case LayerKind::PointwiseLinear: {
      const auto& a = as<LinearAttrs>();
      specs.push_back({"weight", {a.out_features, a.in_features}, false});
      if (a.bias) specs.push_back({"bias", {a.out_features}, false});
      break;
    }
    default:
      break;
  }
  return specs;
}

ValueId LayerGraph::add(LayerKind kind, std::string path, std::vector<ValueId> inputs, LayerAttrs attrs) {
  for (auto v : inputs) {
    if (v < 0 || v >= num_values) throw_error(ErrorKind::Internal, "layer " + path + " reads an undefined value");
  }
  Layer layer;
  layer.kind = kind;
  layer.path = std::move(path);
  layer.inputs = std::move(inputs);
  layer.attrs = std::move(attrs);
  layer.output = num_values++;
  layers.push_back(std::move(layer));
  output = layers.back().output;
  return output;
}

AdaptivePoolAttrs Layer::adaptive_output() const {
  if (const auto* a = std::get_if<AdaptivePoolAttrs>(&attrs)) return *a;
  return {};
}

namespace {

// torch's output length of a window of `kernel` at `stride` over `size` cells
// padded by `padding` on each side; in ceil mode the last window may overhang
// the end but never start in the end padding.
std::int64_t sliding_window_count(std::int64_t size, std::int64_t kernel, std::int64_t stride, std::int64_t padding,
                                  std::int64_t dilation, bool ceil_mode) {
  const std::int64_t span = size + 2 * padding - dilation * (kernel - 1) - 1;
  if (span < 0 || stride < 1) return 0;
  if (!ceil_mode) return span / stride + 1;
  std::int64_t out = (span + stride - 1) / stride + 1;
  if ((out - 1) * stride >= size + padding) --out;
  return out;
}

}  // namespace

std::vector<std::optional<std::array<std::int64_t, 2>>> LayerGraph::spatial_sizes() const {
  std::vector<std::optional<std::array<std::int64_t, 2>>> sizes(static_cast<std::size_t>(num_values));
  sizes.at(static_cast<std::size_t>(input)) = std::array<std::int64_t, 2>{input_size, input_size};
  for (const auto& layer : layers) {
    const auto& in = sizes.at(static_cast<std::size_t>(layer.inputs.at(0)));
    auto& out = sizes.at(static_cast<std::size_t>(layer.output));
    if (!in) continue;
    switch (layer.kind) {
      case LayerKind::Conv2d: {
        const auto& a = layer.as<Conv2dAttrs>();
        out = std::array<std::int64_t, 2>{
            sliding_window_count((*in)[0], a.kernel[0], a.stride[0], a.padding[0], a.dilation[0], false),
            sliding_window_count((*in)[1], a.kernel[1], a.stride[1], a.padding[1], a.dilation[1], false)};
        break;
      }
      case LayerKind::MaxPool2d:
      case LayerKind::AvgPool2d: {
        const auto& a = layer.as<PoolAttrs>();
        out = std::array<std::int64_t, 2>{
            sliding_window_count((*in)[0], a.kernel[0], a.stride[0], a.padding[0], 1, a.ceil_mode),
            sliding_window_count((*in)[1], a.kernel[1], a.stride[1], a.padding[1], 1, a.ceil_mode)};
        break;
      }
      case LayerKind::AdaptiveAvgPool2d: {
        const auto a = layer.adaptive_output();
        out = std::array<std::int64_t, 2>{a.output[0], a.output[1]};
        break;
      }
      case LayerKind::Flatten:
      case LayerKind::Linear:
        break;
      default:
        out = in;
        break;
    }
  }
  return sizes;
}

std::vector<std::pair<std::string, ParamSpec>> LayerGraph::expected_state() const {
  std::vector<std::pair<std::string, ParamSpec>> out;
  for (const auto& layer : layers) {
    for (auto& spec : layer.expected_params()) out.emplace_back(layer.path + "." + spec.local_name, std::move(spec));
  }
  return out;
}

}  // namespace pt2onnx::nn
