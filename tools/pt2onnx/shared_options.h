// Options that several commands take, defined once so that each accepts and
// refuses the same text with the same exit code: the preprocessing flags
// (export records them, infer overrides the model's with them), --labels and
// --arch.
// The parsing itself lives in the library (vision/preprocess_metadata.h,
// common/labels.h), where the metadata readers use it too.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "models/registry.h"
#include "pt2onnx/export.h"
#include "vision/preprocess_metadata.h"

namespace pt2onnx::cli {

struct PreprocessOptions {
  std::string resize, crop, interpolation, mean, std;
  // The flags given (empty text: not given).
  [[nodiscard]] vision::PreprocessFlags flags() const;
};

enum class PreprocessRole {
  Record,    // export: the training preprocessing, written to the model's metadata
  Override,  // infer: replaces what the model's metadata says
};

void add_preprocess_options(CLI::App& cmd, PreprocessOptions& options, PreprocessRole role);

// --threads N with `help`: a whole number from 0 (the command's default) to
// runtime::max_threads(); anything else is a usage error that says so.
CLI::Option* add_threads_option(CLI::App& cmd, int& threads, const std::string& help);

// A number option's check: finite and within [lo, hi]. CLI::Range and
// CLI::NonNegativeNumber let NaN through (every comparison with NaN is
// false), and "inf" would pass a lower bound.
CLI::Validator finite_in(double lo, double hi);
// Finite and >= 0, without an upper bound.
CLI::Validator finite_non_negative();
// Any finite number.
CLI::Validator finite_number();

// --arch NAME for a command that reads a checkpoint (export, verify): "auto"
// (the default) or one of models::architectures(); anything else is a usage
// error listing them.
CLI::Option* add_architecture_option(CLI::App& cmd, std::string& arch, const std::string& help);

// What export and verify are told about the model beyond the checkpoint:
// --arch, --transform-input (GoogLeNet's and Inception V3's transform_input,
// which a state dict does not record), --head (the classifier head's modules),
// --image-size and --interpolate-position-embedding.
struct ModelChoiceArgs {
  std::string arch = kAutoArchitecture;
  std::string transform_input = "auto";
  std::string head;             // empty: read from the checkpoint
  std::int64_t image_size = 0;  // 0: the trained size
  bool interpolate_position_embedding = false;
};
void add_model_choice_options(CLI::App& cmd, ModelChoiceArgs& args, const std::string& arch_help);

// The library's ModelChoice (pt2onnx/export.h) for those flags.
ModelChoice model_choice(const ModelChoiceArgs& args);

// --atol, --rtol and --spread-multiple, for export and verify alike.
void add_tolerance_options(CLI::App& cmd, Tolerance& tolerance);

// Progress for the library's calls: printed on standard output as it comes.
Progress print_progress();

// The names of --labels TEXT; nullopt when the flag was not given. Error(Usage)
// for an empty or repeated name (common/labels.h).
std::optional<std::vector<std::string>> labels_from_flag(const std::string& text);

}  // namespace pt2onnx::cli
