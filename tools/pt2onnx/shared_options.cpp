#include "shared_options.h"

#include "common/labels.h"
#include "pt2onnx/error.h"

namespace pt2onnx::cli {

vision::PreprocessFlags PreprocessOptions::flags() const {
  const auto given = [](const std::string& text) { return text.empty() ? std::nullopt : std::optional(text); };
  return {given(resize), given(crop), given(interpolation), given(mean), given(std)};
}

void add_preprocess_options(CLI::App& cmd, PreprocessOptions& options, PreprocessRole role) {
  if (role == PreprocessRole::Record) {
    cmd.add_option("--resize", options.resize,
                   "Training preprocessing, recorded for 'pt2onnx infer': HxW (exact) or N (shorter side to N; needs "
                   "--crop) (default: the input size)");
    cmd.add_option("--crop", options.crop, "Center crop after the resize: HxW, N or none (default: none)");
    cmd.add_option("--interpolation", options.interpolation,
                   "Resize interpolation: bilinear (default), bicubic or nearest");
    cmd.add_option("--mean", options.mean, "Normalization mean r,g,b on [0,1] pixels (default: ImageNet's)");
    cmd.add_option("--std", options.std, "Normalization std r,g,b (default: ImageNet's)");
    return;
  }
  cmd.add_option("--resize", options.resize, "Override: HxW (exact) or N (shorter side to N)");
  cmd.add_option("--crop", options.crop, "Override: center crop HxW, N or none");
  cmd.add_option("--interpolation", options.interpolation, "Override: nearest, bilinear or bicubic");
  cmd.add_option("--mean", options.mean, "Override: normalization mean r,g,b");
  cmd.add_option("--std", options.std, "Override: normalization std r,g,b");
}

std::optional<std::vector<std::string>> labels_from_flag(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return with_error_context("--labels", [&] { return parse_labels(text, ErrorKind::Usage); });
}

}  // namespace pt2onnx::cli
