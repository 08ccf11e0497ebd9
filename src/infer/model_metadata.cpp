#include "infer/model_metadata.h"

#include <fmt/format.h>

#include "common/labels.h"
#include "common/metadata_keys.h"
#include "common/onnx_file.h"
#include "pt2onnx/error.h"

namespace pt2onnx::infer {

std::vector<std::string> labels_for(const std::map<std::string, std::string>& metadata, std::size_t count) {
  const auto it = metadata.find(metadata_keys::kLabels);
  if (it == metadata.end()) {
    std::vector<std::string> labels;
    for (std::size_t i = 0; i < count; ++i) labels.push_back(fmt::format("output_{}", i));
    return labels;
  }
  auto labels = with_error_context(fmt::format("model metadata {}", metadata_keys::kLabels),
                                   [&] { return parse_labels(it->second, ErrorKind::BadInput); });
  if (labels.size() != count) {
    throw_error(ErrorKind::BadInput, fmt::format("model metadata {} names {} labels but the model has {} outputs",
                                                 metadata_keys::kLabels, labels.size(), count));
  }
  return labels;
}

vision::PreprocessSpec resolve_preprocess(const std::map<std::string, std::string>& metadata,
                                          const vision::PreprocessFlags& o) {
  vision::PreprocessSpec spec = vision::apply_flags(vision::preprocess_spec_from_metadata(metadata), o);
  vision::validate(spec);
  return spec;
}

// The model's H x W, which the preprocessing must produce for every image.
vision::Size2 resolve_input_size(const ModelSignature& sig, const vision::PreprocessSpec& spec) {
  if (sig.height > 0 && sig.width > 0) {
    const vision::Size2 model{static_cast<int>(sig.height), static_cast<int>(sig.width)};
    vision::require_output_size(spec, model);
    return model;
  }
  const std::optional<vision::Size2> produced = vision::fixed_output_size(spec);
  if (!produced) {
    throw_error(ErrorKind::Usage,
                "the model's image size is symbolic and the preprocessing gives each image its own "
                "size; set --crop or an exact --resize HxW");
  }
  return *produced;
}

std::vector<std::string> resolve_labels(const std::map<std::string, std::string>& metadata,
                                        const ModelSignature& signature,
                                        const std::optional<std::vector<std::string>>& given) {
  if (given) {
    if (signature.num_outputs > 0) {
      with_error_context("--labels", [&] { check_labels(*given, signature.num_outputs, ErrorKind::Usage); });
    }
    return *given;
  }
  if (signature.num_outputs > 0) return labels_for(metadata, static_cast<std::size_t>(signature.num_outputs));
  if (metadata.count(metadata_keys::kLabels) != 0) {
    return parse_labels(metadata.at(metadata_keys::kLabels), ErrorKind::BadInput);
  }
  throw_error(ErrorKind::Unsupported, "the model's output size is symbolic and it names no labels; pass --labels");
}

ImageModel open_image_model(const std::filesystem::path& model, const vision::PreprocessFlags& overrides,
                            const std::optional<std::vector<std::string>>& labels, int threads,
                            const EngineLoader& load) {
  ImageModel m;
  m.metadata = read_onnx_metadata(model);
  m.spec = resolve_preprocess(m.metadata, overrides);
  LoadedEngine loaded = load(model, threads);
  m.signature = loaded.signature;
  m.engine = std::move(loaded.engine);
  m.input_size = resolve_input_size(m.signature, m.spec);
  m.labels = resolve_labels(m.metadata, m.signature, labels);
  return m;
}

}  // namespace pt2onnx::infer
