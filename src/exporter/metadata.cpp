#include "exporter/metadata.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.h"

namespace pt2onnx::exporter {
namespace {

// Shortest text that reads back as the same double ("0.485", not "0.48499999999999999").
std::string format_numbers(const std::array<double, 3>& values) { return fmt::format("{}", fmt::join(values, ",")); }

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
  const auto& pre = options.preprocessing;
  const std::array<std::int64_t, 2> input{graph.input_size, graph.input_size};
  const auto crop = pre.crop.value_or(input);
  const auto resize = pre.resize.value_or(crop);
  if (crop != input) {
    throw_error(ErrorKind::Usage, fmt::format("preprocessing crop {} differs from the model's input size {}",
                                              format_size(crop[0], crop[1]), format_size(input[0], input[1])));
  }
  if (resize[0] < crop[0] || resize[1] < crop[1]) {
    throw_error(ErrorKind::Usage, fmt::format("preprocessing resize {} is smaller than the crop {}",
                                              format_size(resize[0], resize[1]), format_size(crop[0], crop[1])));
  }

  std::map<std::string, std::string> m;
  m[k::kFormat] = std::string(kMetadataFormatVersion);
  m[k::kArch] = graph.arch;
  m[k::kNumOutputs] = std::to_string(graph.num_outputs);
  if (options.labels) {
    check_labels(*options.labels, graph.num_outputs);
    m[k::kLabels] = fmt::format("{}", fmt::join(*options.labels, ","));
  }
  m[k::kInputSize] = format_size(input[0], input[1]);
  m[k::kDropout] = fmt::format("{}", options.dropout);
  m[k::kResize] = format_size(resize[0], resize[1]);
  m[k::kCrop] = format_size(crop[0], crop[1]);
  m[k::kInterpolation] = pre.interpolation;
  m[k::kMean] = format_numbers(pre.mean);
  m[k::kStd] = format_numbers(pre.std);
  m[k::kColor] = std::string("RGB");
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
