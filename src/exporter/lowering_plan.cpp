#include "exporter/lowering_plan.h"

#include <set>
#include <string_view>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx::exporter {
namespace {

// A BatchNorm folds into its producer when that producer is a Conv2d whose
// output nothing else reads: folding changes the Conv's output, so a second
// reader (or the graph output) would see the wrong values.
std::optional<std::size_t> foldable_conv(const nn::LayerGraph& graph, const LoweringPlan& plan,
                                         const std::vector<std::optional<std::size_t>>& producer,
                                         const std::vector<int>& readers, std::size_t bn_index) {
  const auto& bn = graph.layers[bn_index];
  const nn::ValueId in = plan.canonical[static_cast<std::size_t>(bn.inputs[0])];
  const auto conv_index = producer[static_cast<std::size_t>(in)];
  if (!conv_index) return std::nullopt;
  const auto& conv = graph.layers[*conv_index];
  if (conv.kind != nn::LayerKind::Conv2d) return std::nullopt;
  if (readers[static_cast<std::size_t>(in)] != 1) return std::nullopt;
  if (in == plan.canonical[static_cast<std::size_t>(graph.output)]) return std::nullopt;
  if (plan.folded_batch_norm[*conv_index]) return std::nullopt;
  if (conv.as<nn::Conv2dAttrs>().out_channels != bn.as<nn::BatchNormAttrs>().num_features) return std::nullopt;
  return conv_index;
}

}  // namespace

bool is_eval_identity(nn::LayerKind kind) {
  return kind == nn::LayerKind::Dropout || kind == nn::LayerKind::StochasticDepth;
}

LoweringPlan plan_lowering(const nn::LayerGraph& graph) {
  const auto num_values = static_cast<std::size_t>(graph.num_values);
  const auto num_layers = graph.layers.size();
  LoweringPlan plan;
  plan.canonical.resize(num_values);
  for (std::size_t v = 0; v < num_values; ++v) plan.canonical[v] = static_cast<nn::ValueId>(v);
  plan.value_names.resize(num_values);
  plan.skipped.assign(num_layers, false);
  plan.folded_batch_norm.assign(num_layers, std::nullopt);

  // Aliases first: layers are in topological order, so an input's canonical
  // value is final by the time a later layer reads it.
  std::vector<std::optional<std::size_t>> producer(num_values);
  std::set<std::string_view> paths;
  for (std::size_t i = 0; i < num_layers; ++i) {
    const auto& layer = graph.layers[i];
    // Node and tensor names come from paths, and ONNX names must be unique.
    if (layer.path.empty() || !paths.insert(layer.path).second) {
      throw_error(ErrorKind::ExportFailed, fmt::format("layer {} ({}) has an empty or repeated module path", i,
                                                       nn::layer_kind_name(layer.kind)));
    }
    if (!nn::input_count_fits(layer.kind, layer.inputs.size())) {
      throw_error(ErrorKind::ExportFailed,
                  fmt::format("layer {} ({}) has {} inputs, expected {}", layer.path, nn::layer_kind_name(layer.kind),
                              layer.inputs.size(), nn::expected_input_count(layer.kind)));
    }
    if (layer.output < 0 || static_cast<std::size_t>(layer.output) >= num_values) {
      throw_error(ErrorKind::ExportFailed, fmt::format("layer {} writes an undefined value", layer.path));
    }
    const auto out = static_cast<std::size_t>(layer.output);
    if (is_eval_identity(layer.kind)) {
      plan.canonical[out] = plan.canonical[static_cast<std::size_t>(layer.inputs[0])];
      plan.skipped[i] = true;
    } else {
      producer[out] = i;
    }
  }
  const auto output = static_cast<std::size_t>(plan.canonical[static_cast<std::size_t>(graph.output)]);
  if (output == static_cast<std::size_t>(plan.canonical[static_cast<std::size_t>(graph.input)])) {
    throw_error(ErrorKind::ExportFailed, "the graph's output is its input: there is nothing to export");
  }

  std::vector<int> readers(num_values, 0);
  for (std::size_t i = 0; i < num_layers; ++i) {
    if (plan.skipped[i]) continue;
    for (auto v : graph.layers[i].inputs)
      ++readers[static_cast<std::size_t>(plan.canonical[static_cast<std::size_t>(v)])];
  }

  for (std::size_t i = 0; i < num_layers; ++i) {
    if (graph.layers[i].kind != nn::LayerKind::BatchNorm2d) continue;
    if (auto conv = foldable_conv(graph, plan, producer, readers, i)) {
      plan.folded_batch_norm[*conv] = i;
      plan.skipped[i] = true;
    }
  }

  for (std::size_t i = 0; i < num_layers; ++i) {
    if (is_eval_identity(graph.layers[i].kind)) continue;
    plan.value_names[static_cast<std::size_t>(graph.layers[i].output)] = graph.layers[i].path;
  }
  plan.value_names[static_cast<std::size_t>(plan.canonical[static_cast<std::size_t>(graph.input)])] = kInputName;
  plan.value_names[output] = kOutputName;
  return plan;
}

}  // namespace pt2onnx::exporter
