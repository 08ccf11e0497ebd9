#include "nn/graph.h"

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
    case LayerKind::Linear: {
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

ValueId Graph::add(LayerKind kind, std::string path, std::vector<ValueId> inputs, LayerAttrs attrs) {
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

std::vector<std::pair<std::string, ParamSpec>> Graph::expected_state() const {
  std::vector<std::pair<std::string, ParamSpec>> out;
  for (const auto& layer : layers) {
    for (auto& spec : layer.expected_params()) out.emplace_back(layer.path + "." + spec.local_name, std::move(spec));
  }
  return out;
}

}  // namespace pt2onnx::nn
