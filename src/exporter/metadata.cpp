#include "exporter/metadata.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.h"
#include "vision/preprocess_metadata.h"

namespace pt2onnx::exporter {
namespace {


}  // namespace

void check_labels(const std::vector<std::string>& labels, std::int64_t num_outputs) {
  if (static_cast<std::int64_t>(labels.size()) != num_outputs) {
    throw_error(ErrorKind::Usage, fmt::format("{} label names given ({}) but the model has {} outputs", labels.size(),
                                              fmt::join(labels, ","), num_outputs));
  }
  for (const auto& label : labels) {
    // The metadata value is a ',' separated list; a name with ',' or a line
    // break could not be read back as one name.
    if (label.empty() || label.find_first_of(",\n\r") != std::string::npos) {
      throw_error(ErrorKind::Usage, fmt::format("label name '{}' is empty or contains ',' or a line break", label));
    }
  }
}

std::string format_size(std::int64_t height, std::int64_t width) { return fmt::format("{}x{}", height, width); }

std::map<std::string, std::string> export_metadata(const nn::Graph& graph, const ExportOptions& options) {
  namespace k = metadata_keys;
  const std::array<std::int64_t, 2> input{graph.input_size, graph.input_size};
  vision::PreprocessSpec spec;
  spec.resize.size = {static_cast<int>(graph.input_size), static_cast<int>(graph.input_size)};
  if (options.preprocessing) spec = *options.preprocessing;
  vision::validate(spec);
  const auto produced = vision::fixed_output_size(spec);
  if (!produced) {
    throw_error(ErrorKind::Usage, fmt::format("preprocessing '{}' gives images of varying size: a shorter-side "
                                              "resize needs a crop to the model's input size {}",
                                              vision::describe(spec), format_size(input[0], input[1])));
  }
  if (produced->height != input[0] || produced->width != input[1]) {
    throw_error(ErrorKind::Usage, fmt::format("preprocessing gives {} images but the model's input size is {}",
                                              format_size(produced->height, produced->width),
                                              format_size(input[0], input[1])));
  }

  std::map<std::string, std::string> m;
  m[k::kFormat] = std::string(kMetadataFormatVersion);
  m[k::kArch] = graph.arch;
  m[k::kNumOutputs] = std::to_string(graph.num_outputs);
  if (options.labels) {
    check_labels(*options.labels, graph.num_outputs);
    m[k::kLabels] = fmt::format("{}", fmt::join(*options.labels, ","));
  }
  m[vision::metadata_keys::kInputSize] = format_size(input[0], input[1]);  // infer reads it back
  m[k::kDropout] = fmt::format("{}", options.dropout);
  m.merge(vision::preprocess_metadata(spec));
  if (!options.checkpoint_file.empty()) m[k::kCheckpointFile] = options.checkpoint_file;
  if (!options.checkpoint_sha256.empty()) m[k::kCheckpointSha256] = options.checkpoint_sha256;
  if (!options.checkpoint_key.empty()) m[k::kCheckpointKey] = options.checkpoint_key;
  return m;
}

void add_metadata(onnx::ModelProto& model, const nn::Graph& graph, const ExportOptions& options) {
  for (const auto& [key, value] : export_metadata(graph, options)) {
    auto* p = model.add_metadata_props();
    p->set_key(key);
    p->set_value(value);
  }
}

}  // namespace pt2onnx::exporter
