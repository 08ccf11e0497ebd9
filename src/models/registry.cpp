#include "models/registry.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "models/families.h"
#include "models/heads.h"
#include "nn/bind.h"
#include "pt2onnx/error.h"

namespace pt2onnx::models {
namespace {

// The one list of families; a new family adds one line here.
const std::vector<Architecture>& registry() {
  static const std::vector<Architecture> kAll = [] {
    std::vector<Architecture> out;
    register_efficientnet(out);
    register_resnet(out);
    register_mobilenet(out);
    register_regnet(out);
    register_densenet(out);
    register_squeezenet(out);
    register_mnasnet(out);
    register_alexnet(out);
    register_vgg(out);
    register_googlenet(out);
    register_inception(out);
    register_shufflenet(out);
    register_convnext(out);
    register_vit(out);
    register_swin(out);
    register_maxvit(out);
    return out;
  }();
  return kAll;
}

const Architecture& find(std::string_view arch) {
  for (const auto& a : registry()) {
    if (a.name == arch) return a;
  }
  throw Error(ErrorKind::Usage, fmt::format("unknown architecture '{}'; known architectures: {}", arch,
                                            fmt::join(architectures(), ", ")));
}

}  // namespace

std::string display_name(std::string_view arch) {
  for (const auto& a : registry()) {
    if (a.name == arch) return a.display_name;
  }
  return std::string(arch);
}

namespace {

// torchvision's default head size, used when the checkpoint has no usable classifier
// weight (binding then reports that key as missing or mismatched).
constexpr std::int64_t kDefaultNumOutputs = 1000;

// The output count is whatever the checkpoint's last Linear (or, in a
// convolutional classifier such as SqueezeNet's, last Conv2d) was trained
// with: its weight is [num_outputs, ...].
std::int64_t num_outputs_from(const nn::LayerGraph& probe, const checkpoint::StateDict& state) {
  for (auto it = probe.layers.rbegin(); it != probe.layers.rend(); ++it) {
    if (it->kind != nn::LayerKind::Linear && it->kind != nn::LayerKind::Conv2d) continue;
    const Tensor* w = state.find(it->path + ".weight");
    const std::size_t rank = it->kind == nn::LayerKind::Linear ? 2 : 4;
    if (w != nullptr && w->rank() == rank && w->dim(0) > 0) return w->dim(0);
    break;
  }
  return kDefaultNumOutputs;
}

bool has_training_only_tensors(const nn::LayerGraph& probe, const checkpoint::StateDict& state) {
  for (const auto& [key, tensor] : state.entries) {
    for (const auto& prefix : probe.training_only) {
      if (key.starts_with(prefix + ".")) return true;
    }
  }
  return false;
}

// The graph for `state`: the output count and the head from its classifier's
// tensors (models/heads.h), transform_input from the user or the checkpoint.
nn::LayerGraph build_for(const Architecture& arch, const checkpoint::StateDict& state, double dropout,
                         const BuildChoices& choices = {}) {
  nn::ModelOptions probe_options(1, 0.0);
  if (arch.trained_size) probe_options.image_size = arch.trained_size(state);
  const nn::LayerGraph probe = arch.build(probe_options);
  const auto spec = choices.head ? std::optional(parse_head_spec(*choices.head)) : std::nullopt;
  const auto head = plan_head(probe, state, spec);
  const auto head_n = head ? head_outputs(*head, state) : std::nullopt;
  nn::ModelOptions options(head_n.value_or(num_outputs_from(probe, state)), dropout);
  options.image_size = probe_options.image_size;
  options.transform_input = choices.transform_input;
  options.has_training_only_tensors = has_training_only_tensors(probe, state);
  nn::LayerGraph graph = arch.build(options);
  if (head) apply_head(graph, *head, state);
  return graph;
}

// Share of the union of expected and present keys that match by name and shape.
double overlap(const nn::BindReport& r) {
  const auto universe = static_cast<double>(r.expected_keys + r.unexpected.size());
  return universe == 0 ? 0.0 : static_cast<double>(r.matched_keys) / universe;
}

// A hint naming the registered architecture the state dict fits instead: one
// that fits exactly, else one clearly closer than the requested one and than
// every other candidate. Empty when nothing stands out.
std::string suggest_architecture(std::string_view requested, double requested_overlap,
                                 const checkpoint::StateDict& state) {
  // Margins for "clearly closest": a guess that is not clearly better only misleads.
  constexpr double kMinOverlap = 0.5;
  constexpr double kMargin = 0.1;
  struct Best {
    std::string name;
    nn::BindReport report;
    double overlap = -1.0;
  };
  std::optional<Best> best;
  double runner_up = 0.0;
  for (const auto& arch : registry()) {
    if (arch.name == requested) continue;
    nn::BindReport r = nn::check_state(build_for(arch, state, 0.0), state);
    if (r.ok()) {
      return fmt::format("This looks like {}: all {} of its tensors fit.", arch.name, r.expected_keys);
    }
    const double o = overlap(r);
    if (!best || o > best->overlap) {
      if (best) runner_up = best->overlap;
      best = Best{arch.name, std::move(r), o};
    } else if (o > runner_up) {
      runner_up = o;
    }
  }
  if (best && best->overlap >= kMinOverlap && best->overlap >= requested_overlap + kMargin &&
      best->overlap >= runner_up + kMargin) {
    return fmt::format("It is closest to {}: {} of its {} tensors fit.", best->name, best->report.matched_keys,
                       best->report.expected_keys);
  }
  return {};
}

bool fits_by_name_and_shape(const nn::BindReport& r) {
  return r.missing.empty() && r.unexpected.empty() && r.shape_mismatches.empty();
}

}  // namespace

Detection detect_architecture(const checkpoint::StateDict& state, const std::optional<std::string>& head) {
  struct Candidate {
    const Architecture* arch;
    nn::BindReport report;
  };
  std::vector<Candidate> fitting;
  std::optional<Candidate> nearest;
  double nearest_overlap = -1.0;
  for (const auto& arch : registry()) {
    std::optional<nn::LayerGraph> graph;
    try {
      graph = build_for(arch, state, 0.0, {std::nullopt, head});
    } catch (const Error& e) {
      // A classifier this family's head slot cannot read (or --head cannot
      // place) rules the family out; a bad --head is the user's to fix.
      if (e.kind() != ErrorKind::ArchMismatch) throw;
      continue;
    }
    nn::BindReport r = nn::check_state(*graph, state);
    if (fits_by_name_and_shape(r)) {
      fitting.push_back({&arch, std::move(r)});
    } else if (const double o = overlap(r); o > nearest_overlap) {
      nearest_overlap = o;
      nearest = Candidate{&arch, std::move(r)};
    }
  }
  if (fitting.size() == 1) {
    return {fitting[0].arch->name,
            fmt::format("all {} of its tensors fit by name and shape; no other architecture's do",
                        fitting[0].report.expected_keys)};
  }
  if (fitting.size() > 1) {
    std::vector<std::string> names;
    for (const auto& c : fitting) names.push_back(c.arch->name);
    throw Error(ErrorKind::ArchMismatch,
                fmt::format("the checkpoint fits {} architectures by name and shape: {}; choose one with --arch",
                            names.size(), fmt::join(names, ", ")));
  }
  std::vector<std::string> families;
  for (const auto& a : registry()) {
    if (std::find(families.begin(), families.end(), a.family) == families.end()) families.push_back(a.family);
  }
  std::string message = fmt::format("the checkpoint fits none of the architectures pt2onnx rebuilds (families: {}).",
                                    fmt::join(families, ", "));
  if (nearest && nearest->report.matched_keys > 0) {
    message += fmt::format(" The nearest is {} ({}): {}", nearest->arch->name, nearest->arch->family,
                           nearest->report.describe(nearest->arch->name));
  }
  message +=
      " If it is another family, export it in Python with torch.onnx.export (opset 17) and run that file with "
      "`pt2onnx run` or `pt2onnx infer`; if it is one of these with its layers renamed or replaced, give --arch to "
      "see how it differs.";
  throw Error(ErrorKind::Unsupported, message);
}

void resize_input(nn::LayerGraph& graph, std::int64_t size, bool interpolate) {
  const bool position_embedding = std::any_of(graph.layers.begin(), graph.layers.end(), [](const nn::Layer& l) {
    return l.kind == nn::LayerKind::PositionEmbedding;
  });
  if (interpolate && !position_embedding) {
    throw Error(ErrorKind::Usage, fmt::format("--interpolate-position-embedding: {} has no position embedding (only "
                                              "the vision transformers do)",
                                              display_name(graph.arch)));
  }
  const std::int64_t trained = graph.input_size;
  if (size == trained) return;
  if (position_embedding) {
    if (!interpolate) {
      throw Error(ErrorKind::Usage,
                  fmt::format("--image-size {0}: {1}'s position embedding was trained for {2}x{2} images, and the "
                              "model takes no other size. Export at {2} (drop --image-size), or add "
                              "--interpolate-position-embedding to resize the embedding to the new patch grid as "
                              "torchvision's interpolate_embeddings does (then check the model's accuracy at {0}x{0})",
                              size, display_name(graph.arch), trained));
    }
    resize_vit_position_embedding(graph, size);
  }
  graph.input_size = size;
  graph.set_token_grids();
  const auto sizes = graph.spatial_sizes();
  for (const auto& layer : graph.layers) {
    const auto* partition = std::get_if<nn::PartitionAttrs>(&layer.attrs);
    if (partition && (partition->grid[0] % partition->window != 0 || partition->grid[1] % partition->window != 0)) {
      throw Error(ErrorKind::Usage,
                  fmt::format("--image-size {0}: {1} cuts each block's feature map into {2}x{2} partitions, and at "
                              "{0}x{0} layer {3} has a {4}x{5} map; choose a size that keeps every map a multiple "
                              "of {2} (224 or 448, for instance)",
                              size, display_name(graph.arch), partition->window, layer.path, partition->grid[0],
                              partition->grid[1]));
    }
    const auto& out = sizes.at(static_cast<std::size_t>(layer.output));
    if (out && ((*out)[0] < 1 || (*out)[1] < 1)) {
      throw Error(ErrorKind::Usage,
                  fmt::format("--image-size {0}: too small for {1}: layer {2} ({3}) would have no output cells at "
                              "{0}x{0}",
                              size, display_name(graph.arch), layer.path, nn::layer_kind_name(layer.kind)));
    }
  }
  graph.notes.push_back(fmt::format("input size {0}x{0} (--image-size); trained at {1}x{1}{2}", size, trained,
                                    position_embedding ? ", position embedding interpolated (bicubic)" : ""));
}

std::vector<std::string> architectures() {
  std::vector<std::string> names;
  for (const auto& a : registry()) names.push_back(a.name);
  return names;
}

nn::LayerGraph build(std::string_view arch, const nn::ModelOptions& options) { return find(arch).build(options); }

nn::LayerGraph build_and_bind(std::string_view arch, const checkpoint::StateDict& state, double dropout,
                              const BuildChoices& choices) {
  nn::LayerGraph graph = build_for(find(arch), state, dropout, choices);
  const nn::BindReport report = nn::check_state(graph, state);
  if (!report.ok()) {
    std::string message = report.describe(graph.arch);
    const std::string hint = suggest_architecture(arch, overlap(report), state);
    if (!hint.empty()) message += " " + hint;
    throw Error(ErrorKind::ArchMismatch, message);
  }
  nn::bind(graph, state);
  return graph;
}

}  // namespace pt2onnx::models
