#include "exporter/metadata.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/labels.h"
#include "common/metadata_keys.h"
#include "pt2onnx/error.h"
#include "vision/preprocess_metadata.h"

namespace pt2onnx::exporter {
std::string format_size(std::int64_t height, std::int64_t width) { return fmt::format("{}x{}", height, width); }

std::map<std::string, std::string> export_metadata(const nn::LayerGraph& graph, const ExportOptions& options) {
  namespace k = metadata_keys;
  const std::array<std::int64_t, 2> input{graph.input_size, graph.input_size};
  vision::PreprocessSpec spec;
  spec.resize.size = {static_cast<int>(graph.input_size), static_cast<int>(graph.input_size)};
  if (options.preprocessing) spec = *options.preprocessing;
  vision::validate(spec);
  vision::require_output_size(spec, {static_cast<int>(input[0]), static_cast<int>(input[1])});

  std::map<std::string, std::string> m;
  m[k::kFormat] = std::string(k::kFormatVersion);
  m[k::kArch] = graph.arch;
  m[k::kNumOutputs] = std::to_string(graph.num_outputs);
  if (options.labels) {
    check_labels(*options.labels, graph.num_outputs, ErrorKind::Usage);
    m[k::kLabels] = fmt::format("{}", fmt::join(*options.labels, ","));
  }
  m[k::kInputSize] = format_size(input[0], input[1]);  // infer reads it back
  m[k::kDropout] = fmt::format("{}", options.dropout);
  m.merge(vision::preprocess_metadata(spec));
  if (!options.checkpoint_file.empty()) m[k::kCheckpointFile] = options.checkpoint_file;
  if (!options.checkpoint_sha256.empty()) m[k::kCheckpointSha256] = options.checkpoint_sha256;
  if (!options.checkpoint_key.empty()) m[k::kCheckpointKey] = options.checkpoint_key;
  return m;
}

void add_metadata(onnx::ModelProto& model, const nn::LayerGraph& graph, const ExportOptions& options) {
  for (const auto& [key, value] : export_metadata(graph, options)) {
    auto* p = model.add_metadata_props();
    p->set_key(key);
    p->set_value(value);
  }
}

}  // namespace pt2onnx::exporter
