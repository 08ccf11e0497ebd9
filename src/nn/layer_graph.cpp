#include "nn/layer_graph.h"

#include <algorithm>

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

std::string state_key(const std::string& path, const std::string& local_name) {
  return local_name.empty() ? path : path + "." + local_name;
}

std::vector<std::pair<std::string, ParamSpec>> LayerGraph::expected_state() const {
  std::vector<std::pair<std::string, ParamSpec>> out;
  for (const auto& layer : layers) {
    for (auto& spec : layer.expected_params()) {
      const bool bare = spec.local_name.empty();
      auto key = state_key(layer.path, spec.local_name);
      // torch lists a module's own parameters before its children's: a bare
      // parameter (ViT's class_token, owned by the model itself) goes before
      // the first key under the module that owns it.
      auto at = out.end();
      if (bare) {
        const auto dot = key.rfind('.');
        const std::string owner = dot == std::string::npos ? "" : key.substr(0, dot + 1);
        at = std::find_if(out.begin(), out.end(), [&](const auto& e) { return e.first.starts_with(owner); });
      }
      out.emplace(at, std::move(key), std::move(spec));
    }
  }
  return out;
}

}  // namespace pt2onnx::nn
