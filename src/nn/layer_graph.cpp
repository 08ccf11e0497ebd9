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

void LayerGraph::set_token_grids() {
  const auto sizes = spatial_sizes();
  for (auto& layer : layers) {
    const auto& in = sizes.at(static_cast<std::size_t>(layer.inputs.at(0)));
    if (!in) continue;
    if (auto* w = std::get_if<WindowAttrs>(&layer.attrs)) w->grid = *in;
    if (auto* m = std::get_if<PatchMergingAttrs>(&layer.attrs)) m->grid = *in;
    if (auto* p = std::get_if<PartitionAttrs>(&layer.attrs)) p->grid = *in;
  }
}

std::vector<std::int64_t> relative_position_index(std::int64_t window) {
  const std::int64_t tokens = window * window, span = 2 * window - 1;
  std::vector<std::int64_t> index(static_cast<std::size_t>(tokens * tokens));
  for (std::int64_t i = 0; i < tokens; ++i) {
    for (std::int64_t j = 0; j < tokens; ++j) {
      const std::int64_t dy = i / window - j / window + window - 1;
      const std::int64_t dx = i % window - j % window + window - 1;
      index[static_cast<std::size_t>(i * tokens + j)] = dy * span + dx;
    }
  }
  return index;
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
