#include "infer/model_metadata.h"

#include <fmt/format.h>

#include "common/labels.h"
#include "common/metadata_keys.h"
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

}  // namespace pt2onnx::infer
