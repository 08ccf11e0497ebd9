#include "exporter/export_report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace pt2onnx::exporter {
std::string format_export_report(const ExportReport& r) {
  std::string out = fmt::format("Model: {}\n", r.model);
  // The seed reports decimal megabytes ("16.2 MB" for EfficientNet-B0).
  out += fmt::format("Size: {:.1f} MB\n", static_cast<double>(r.file_bytes) / 1e6);
  out += fmt::format("Input: (batch, {}, {}, {})\n", r.channels, r.input_size, r.input_size);
  if (r.labels && !r.labels->empty()) {
    out += fmt::format("Output: (batch, {}) - [{}] logits\n", r.num_outputs, fmt::join(*r.labels, ", "));
  } else {
    out += fmt::format("Output: (batch, {}) logits\n", r.num_outputs);
  }
  return out;
}

}  // namespace pt2onnx::exporter
