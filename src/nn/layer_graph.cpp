#include "nn/layer_graph.h"

#include "pt2onnx/error.h"

namespace pt2onnx::nn {

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

std::vector<std::optional<std::array<std::int64_t, 2>>> LayerGraph::spatial_sizes() const {
  std::vector<std::optional<std::array<std::int64_t, 2>>> sizes(static_cast<std::size_t>(num_values));
  sizes.at(static_cast<std::size_t>(input)) = std::array<std::int64_t, 2>{input_size, input_size};
  for (const auto& layer : layers) {
    const auto& in = sizes.at(static_cast<std::size_t>(layer.inputs.at(0)));
    auto& out = sizes.at(static_cast<std::size_t>(layer.output));
    if (!in) continue;
    out = layer.output_spatial(*in);
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
