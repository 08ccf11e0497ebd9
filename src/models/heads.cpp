#include "models/heads.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "pt2onnx/error.h"

namespace pt2onnx::models {
namespace {

using nn::LayerKind;

struct NamedActivation {
  std::string_view name;
  LayerKind kind;
};
constexpr std::array<NamedActivation, 6> kHeadActivations{{
    {"relu", LayerKind::ReLU},
    {"relu6", LayerKind::ReLU6},
    {"gelu", LayerKind::GELU},
    {"silu", LayerKind::SiLU},
    {"sigmoid", LayerKind::Sigmoid},
    {"hardswish", LayerKind::Hardswish},
}};

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return std::string(s);
}

HeadModule parse_head_module(const std::string& item) {
  if (item == "linear") return {LayerKind::Linear, 0.0};
  if (item == "identity") return {LayerKind::Dropout, 0.0, true};
  if (item == "dropout") return {LayerKind::Dropout, 0.5};  // nn.Dropout's default p
  if (item.starts_with("dropout(") && item.ends_with(")")) {
    const std::string p = item.substr(8, item.size() - 9);
    double value = -1.0;
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
    if (ec != std::errc() || end != p.data() + p.size() || !(value >= 0.0 && value <= 1.0)) {
      throw Error(ErrorKind::Usage, fmt::format("'{}': a dropout probability is a number from 0 to 1", item));
    }
    return {LayerKind::Dropout, value};
  }
  for (const auto& a : kHeadActivations) {
    if (item == a.name) return {a.kind, 0.0};
  }
  throw Error(ErrorKind::Usage,
              fmt::format("'{}' is not a head module; use linear, dropout, dropout(P), relu, relu6, gelu, silu, "
                          "sigmoid, hardswish or identity",
                          item));
}

std::string module_text(const HeadModule& m) {
  if (m.identity) return "Identity";
  switch (m.kind) {
    case LayerKind::Linear:
      return "Linear";
    case LayerKind::Dropout:
      return "Dropout";
    default:
      return std::string(nn::layer_kind_name(m.kind));
  }
}

std::string describe_modules(const std::vector<HeadModule>& modules) {
  std::vector<std::string> parts;
  for (const auto& m : modules) parts.push_back(module_text(m));
  return fmt::format("Sequential({})", fmt::join(parts, ", "));
}

// The indices i of `<path>.<i>.weight` keys with a 2-D tensor, and whether
// any key lies under `<path>.<digit>` at all.
std::map<std::int64_t, bool> sequential_indices(const std::string& path, const checkpoint::StateDict& state) {
  std::map<std::int64_t, bool> out;  // index -> has a 2-D weight
  const std::string prefix = path + ".";
  for (const auto& [key, tensor] : state.entries) {
    if (!key.starts_with(prefix)) continue;
    const std::string_view rest = std::string_view(key).substr(prefix.size());
    const auto dot = rest.find('.');
    if (dot == std::string_view::npos || dot == 0) continue;
    std::int64_t index = -1;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + dot, index);
    if (ec != std::errc() || end != rest.data() + dot) continue;
    bool& linear = out[index];
    linear = linear || (rest.substr(dot + 1) == "weight" && tensor.rank() == 2);
  }
  return out;
}

// The auto-recognised Sequential: Dropout before the first Linear, ReLU (and
// Dropout) in gaps of one (two) modules between Linear layers.
std::optional<HeadPlan> recognise_sequential(const std::string& path, const std::map<std::int64_t, bool>& indices) {
  std::vector<std::int64_t> linears;
  for (const auto& [index, linear] : indices) {
    if (linear) linears.push_back(index);
  }
  if (linears.empty()) return std::nullopt;
  HeadPlan plan{path, {}, true, {}};
  bool assumed_relu = false;
  for (std::int64_t i = 0; i <= linears.back(); ++i) {
    if (std::find(linears.begin(), linears.end(), i) != linears.end()) {
      plan.modules.push_back({LayerKind::Linear, 0.0});
      continue;
    }
    const auto next = std::find_if(linears.begin(), linears.end(), [&](std::int64_t l) { return l > i; });
    if (next == linears.begin()) {
      plan.modules.push_back({LayerKind::Dropout, 0.0});  // before the first Linear
      continue;
    }
    const std::int64_t gap = *next - *(next - 1) - 1;
    if (gap > 2) {
      throw Error(ErrorKind::ArchMismatch,
                  fmt::format("the head at {} has {} modules without parameters between its Linear layers {}.{} and "
                              "{}.{}, which the checkpoint does not name; describe the head with --head (for example "
                              "--head linear,relu,dropout,linear)",
                              path, gap, path, *(next - 1), path, *next));
    }
    const bool first_in_gap = i == *(next - 1) + 1;
    plan.modules.push_back({first_in_gap ? LayerKind::ReLU : LayerKind::Dropout, 0.0});
    assumed_relu = assumed_relu || first_in_gap;
  }
  plan.note = fmt::format("the head at {} is {}, recognised from its Linear layers' tensors", path,
                          describe_modules(plan.modules));
  if (assumed_relu) {
    plan.note += "; ReLU is assumed between them (a checkpoint does not record activations: --head names another)";
  }
  return plan;
}

std::string parent_of(const std::string& path) {
  const auto dot = path.rfind('.');
  if (dot == std::string::npos) return {};
  const std::string_view last = std::string_view(path).substr(dot + 1);
  const bool numeric =
      !last.empty() && std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; });
  return numeric ? path.substr(0, dot) : std::string();
}

}  // namespace

std::vector<HeadModule> parse_head_spec(const std::string& text) {
  std::vector<HeadModule> modules;
  std::string_view rest(text);
  while (true) {
    const auto comma = rest.find(',');
    std::string item = trim(rest.substr(0, comma));
    std::transform(item.begin(), item.end(), item.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (item.empty()) throw Error(ErrorKind::Usage, fmt::format("--head '{}' has an empty module", text));
    modules.push_back(parse_head_module(item));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (modules.back().kind != LayerKind::Linear) {
    throw Error(ErrorKind::Usage, fmt::format("--head '{}' must end with linear (the layer giving the outputs)", text));
  }
  return modules;
}

std::optional<HeadPlan> plan_head(const nn::LayerGraph& probe, const checkpoint::StateDict& state,
                                  const std::optional<std::vector<HeadModule>>& spec) {
  if (probe.layers.empty() || probe.layers.back().kind != LayerKind::Linear) return std::nullopt;
  const nn::Layer& slot = probe.layers.back();
  if (!spec) {
    const Tensor* w = state.find(slot.path + ".weight");
    if (w != nullptr && w->rank() == 2 && w->dim(1) == slot.as<nn::LinearAttrs>().in_features) {
      // nn.Linear(in, n) in place of a bias-free last Linear (MaxViT's classifier.5) brings a bias
      const bool bias = state.find(slot.path + ".bias") != nullptr;
      if (bias == slot.as<nn::LinearAttrs>().bias) return std::nullopt;
      return HeadPlan{slot.path,
                      {{LayerKind::Linear, 0.0}},
                      false,
                      fmt::format("the head {} is a Linear {} a bias, where the family's {}", slot.path,
                                  bias ? "with" : "without", bias ? "has none" : "has one")};
    }
  }
  std::vector<std::string> candidates{slot.path};
  if (auto parent = parent_of(slot.path); !parent.empty()) candidates.push_back(std::move(parent));
  for (const auto& path : candidates) {
    const auto indices = sequential_indices(path, state);
    if (spec) {
      if (indices.empty()) continue;
      return HeadPlan{path, *spec, true,
                      fmt::format("the head at {} is {}, as --head describes", path, describe_modules(*spec))};
    }
    const Tensor* w = state.find(path + ".weight");
    if (path != slot.path && w != nullptr && w->rank() == 2) {
      return HeadPlan{path,
                      {{LayerKind::Linear, 0.0}},
                      false,
                      fmt::format("the head at {} is a single Linear in place of the family's classifier", path)};
    }
    if (auto plan = recognise_sequential(path, indices)) return plan;
  }
  if (spec) {
    throw Error(ErrorKind::ArchMismatch,
                fmt::format("--head describes a Sequential, but the checkpoint has no tensors under {}.<index>",
                            fmt::join(candidates, ".<index> or ")));
  }
  return std::nullopt;
}

std::optional<std::int64_t> head_outputs(const HeadPlan& plan, const checkpoint::StateDict& state) {
  for (std::size_t i = plan.modules.size(); i-- > 0;) {
    if (plan.modules[i].kind != LayerKind::Linear) continue;
    const std::string key = plan.sequential ? fmt::format("{}.{}.weight", plan.path, i) : plan.path + ".weight";
    const Tensor* w = state.find(key);
    if (w != nullptr && w->rank() == 2) return w->dim(0);
    return std::nullopt;
  }
  return std::nullopt;
}

void apply_head(nn::LayerGraph& graph, const HeadPlan& plan, const checkpoint::StateDict& state) {
  const auto under = [&](const std::string& path) { return path == plan.path || path.starts_with(plan.path + "."); };
  nn::ValueId input = -1;
  std::int64_t in_features = 0;
  while (!graph.layers.empty() && under(graph.layers.back().path)) {
    const nn::Layer& last = graph.layers.back();
    if (last.output != graph.num_values - 1 || last.inputs.size() != 1) {
      throw Error(ErrorKind::Internal, fmt::format("layer {} cannot be replaced by a head", last.path));
    }
    input = last.inputs[0];
    if (last.kind == LayerKind::Linear) in_features = last.as<nn::LinearAttrs>().in_features;
    graph.layers.pop_back();
    --graph.num_values;
  }
  if (input < 0 || in_features == 0) {
    throw Error(ErrorKind::Internal, fmt::format("{} ends in no Linear under {}", graph.arch, plan.path));
  }
  graph.output = input;
  std::int64_t features = in_features;
  for (std::size_t i = 0; i < plan.modules.size(); ++i) {
    const HeadModule& m = plan.modules[i];
    const std::string path = plan.sequential ? fmt::format("{}.{}", plan.path, i) : plan.path;
    if (m.identity) continue;
    if (m.kind == LayerKind::Linear) {
      const Tensor* w = state.find(path + ".weight");
      // Sized from the checkpoint; a missing weight is left to binding to report.
      const std::int64_t out = w != nullptr && w->rank() == 2 ? w->dim(0) : features;
      input = graph.add(LayerKind::Linear, path, {input},
                        nn::LinearAttrs{features, out, state.find(path + ".bias") != nullptr});
      features = out;
      graph.num_outputs = out;
    } else if (m.kind == LayerKind::Dropout) {
      input = graph.add(LayerKind::Dropout, path, {input}, nn::DropoutAttrs{m.dropout});
    } else {
      input = graph.add(m.kind, path, {input});
    }
  }
  graph.output = input;
  graph.notes.push_back(plan.note);
}

}  // namespace pt2onnx::models
