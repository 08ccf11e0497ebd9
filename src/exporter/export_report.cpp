#include "exporter/export_report.h"

#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace pt2onnx::exporter {
namespace {

bool starts_with_digits_after(std::string_view s, std::string_view prefix) {
  if (!s.starts_with(prefix) || s.size() == prefix.size()) return false;
  for (char c : s.substr(prefix.size())) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return false;
  }
  return true;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string capitalized(std::string_view s) {
  std::string out(s);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

}  // namespace

std::string arch_display_name(std::string_view arch) {
  // torchvision's spellings: efficientnet_b0, efficientnet_v2_s, resnet50, mobilenet_v3_small.
  if (arch.starts_with("efficientnet_v2_")) return "EfficientNetV2-" + upper(arch.substr(16));
  if (arch.starts_with("efficientnet_")) return "EfficientNet-" + upper(arch.substr(13));
  if (starts_with_digits_after(arch, "resnet")) return fmt::format("ResNet-{}", arch.substr(6));
  if (arch == "mobilenet_v2") return "MobileNetV2";
  if (arch.starts_with("mobilenet_v3_")) return "MobileNetV3-" + capitalized(arch.substr(13));
  return std::string(arch);
}

std::string format_export_report(const ExportReport& r) {
  std::string out = fmt::format("Model: {}\n", arch_display_name(r.arch));
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
