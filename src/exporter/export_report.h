// The summary `pt2onnx export` prints after a successful export, in the seed
// script's words: Model, Size, Input, Output with label names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pt2onnx::exporter {

struct ExportReport {
  std::string model;  // display name (models::display_name): "EfficientNet-B0"
  std::uint64_t file_bytes = 0;
  std::int64_t channels = 3;
  std::int64_t input_size = 224;
  std::int64_t num_outputs = 0;
  std::optional<std::vector<std::string>> labels;
};

// Model: EfficientNet-B0
// Size: 16.3 MB
// Input: (batch, 3, 224, 224)
// Output: (batch, 2) - [biopsy, magview] logits
std::string format_export_report(const ExportReport& report);

}  // namespace pt2onnx::exporter
