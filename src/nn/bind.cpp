#include "nn/bind.h"

#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "pt2onnx/error.h"

namespace pt2onnx::nn {
namespace {

// How many names of each kind a diagnostic lists before "and N more".
constexpr std::size_t kListed = 5;
constexpr std::string_view kNumBatchesTracked = ".num_batches_tracked";

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

template <typename T, typename Fn>
std::string listing(const std::vector<T>& items, Fn&& show) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < kListed; ++i) {
    if (i > 0) out += ", ";
    out += show(items[i]);
  }
  if (items.size() > kListed) out += fmt::format(" and {} more", items.size() - kListed);
  return out;
}

// BatchNorm2d registers num_batches_tracked after its running stats; it only
// drives the momentum schedule in training, so eval ignores it.
bool is_ignored_buffer(std::string_view key, const std::unordered_set<std::string_view>& batchnorm_paths) {
  if (!key.ends_with(kNumBatchesTracked)) return false;
  return batchnorm_paths.contains(key.substr(0, key.size() - kNumBatchesTracked.size()));
}

bool under_training_only(std::string_view key, const LayerGraph& graph) {
  for (const auto& prefix : graph.training_only) {
    if (key.size() > prefix.size() && key.starts_with(prefix) && key[prefix.size()] == '.') return true;
  }
  return false;
}

}  // namespace

std::string BindReport::describe(const std::string& arch) const {
  std::string out = fmt::format("the checkpoint does not fit {}: {} of {} expected tensors match.", arch, matched_keys,
                                expected_keys);
  const auto name = [](const std::string& s) { return s; };
  if (!missing.empty())
    out += fmt::format(" {}: {}.", plural(missing.size(), "missing key", "missing keys"), listing(missing, name));
  if (!unexpected.empty()) {
    out += fmt::format(" {}: {}.", plural(unexpected.size(), "unexpected key", "unexpected keys"),
                       listing(unexpected, name));
  }
  if (!duplicates.empty()) {
    out += fmt::format(" {} more than once: {}.", plural(duplicates.size(), "key appears", "keys appear"),
                       listing(duplicates, name));
  }
  if (!shape_mismatches.empty()) {
    out += fmt::format(" {}: {}.", plural(shape_mismatches.size(), "shape mismatch", "shape mismatches"),
                       listing(shape_mismatches, [](const ShapeMismatch& m) {
                         return fmt::format("{} is {} in the checkpoint, {} expected", m.key,
                                            shape_to_string(m.checkpoint), shape_to_string(m.expected));
                       }));
  }
  if (!dtype_mismatches.empty()) {
    out += fmt::format(" {} (weights must be float32, float16, bfloat16 or float64; index buffers integers): {}.",
                       plural(dtype_mismatches.size(), "tensor has the wrong type", "tensors have the wrong type"),
                       listing(dtype_mismatches, [](const DTypeMismatch& m) {
                         return fmt::format("{} is {}, {} expected", m.key, dtype_name(m.checkpoint),
                                            m.integer_expected ? "an integer type" : "a floating-point type");
                       }));
  }
  return out;
}

BindReport check_state(const LayerGraph& graph, const checkpoint::StateDict& state) {
  BindReport report;
  std::unordered_map<std::string_view, const Tensor*> present;
  for (const auto& [key, tensor] : state.entries) {
    if (!present.emplace(key, &tensor).second) report.duplicates.push_back(key);
  }
  std::unordered_set<std::string_view> batchnorm_paths;
  for (const auto& layer : graph.layers) {
    if (layer.kind == LayerKind::BatchNorm2d) batchnorm_paths.insert(layer.path);
  }

  const auto expected = graph.expected_state();
  report.expected_keys = expected.size();
  std::unordered_set<std::string_view> expected_names;
  for (const auto& [key, spec] : expected) {
    expected_names.insert(key);
    const auto it = present.find(key);
    if (it == present.end()) {
      report.missing.push_back(key);
      continue;
    }
    const Tensor& t = *it->second;
    bool fits = true;
    if (t.shape() != spec.shape) {
      report.shape_mismatches.push_back({key, t.shape(), spec.shape});
      fits = false;
    }
    if (dtype_is_floating(t.dtype()) == spec.integer) {
      report.dtype_mismatches.push_back({key, t.dtype(), spec.integer});
      fits = false;
    }
    if (fits) ++report.matched_keys;
  }
  for (const auto& [key, tensor] : state.entries) {
    if (expected_names.contains(key) || is_ignored_buffer(key, batchnorm_paths)) continue;
    if (under_training_only(key, graph)) {
      report.training_only.push_back(key);
    } else {
      report.unexpected.push_back(key);
    }
  }
  return report;
}

void bind(LayerGraph& graph, const checkpoint::StateDict& state) {
  const BindReport report = check_state(graph, state);
  if (!report.ok()) throw Error(ErrorKind::ArchMismatch, report.describe(graph.arch));

  std::unordered_map<std::string_view, const Tensor*> present;
  for (const auto& [key, tensor] : state.entries) present.emplace(key, &tensor);
  // Convert everything first so a failure cannot leave the graph half bound.
  std::vector<std::map<std::string, Tensor>> params(graph.layers.size());
  for (std::size_t i = 0; i < graph.layers.size(); ++i) {
    const Layer& layer = graph.layers[i];
    for (const auto& spec : layer.expected_params()) {
      const Tensor* t = present.at(state_key(layer.path, spec.local_name));
      params[i].emplace(spec.local_name, t->to_float32());
    }
  }
  for (std::size_t i = 0; i < graph.layers.size(); ++i) graph.layers[i].params = std::move(params[i]);
  if (!report.training_only.empty()) {
    graph.notes.push_back(fmt::format("dropped {} of {} (used only in training; eval never runs them)",
                                      plural(report.training_only.size(), "tensor", "tensors"),
                                      fmt::join(graph.training_only, ", ")));
  }
}

}  // namespace pt2onnx::nn
