#include "shared_options.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <system_error>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/labels.h"
#include "models/heads.h"
#include "models/registry.h"
#include "pt2onnx/error.h"
#include "pt2onnx/runtime.h"

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

CLI::Option* add_threads_option(CLI::App& cmd, int& threads, const std::string& help) {
  const CLI::Validator count(
      [](std::string& text) -> std::string {
        int n = 0;
        const auto* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, n);
        if (ec != std::errc() || ptr != end || n < 0) {
          return fmt::format("'{}' is not a thread count: give 0 (the default) or a whole number up to {}", text,
                             runtime::max_threads());
        }
        if (n > runtime::max_threads()) {
          return fmt::format("{} threads is more than the {} this process may start (8 per CPU it may use)", n,
                             runtime::max_threads());
        }
        return {};
      },
      "0.." + std::to_string(runtime::max_threads()));
  return cmd.add_option("--threads", threads, help)->check(count);
}

namespace {

CLI::Validator finite_check(double lo, double hi, std::string description) {
  return {[lo, hi, description](std::string& text) -> std::string {
            char* end = nullptr;
            const double v = std::strtod(text.c_str(), &end);
            if (text.empty() || end != text.c_str() + text.size()) return fmt::format("'{}' is not a number", text);
            if (!std::isfinite(v) || v < lo || v > hi) return fmt::format("{} is not {}", text, description);
            return {};
          },
          description};
}

}  // namespace

CLI::Validator finite_in(double lo, double hi) {
  return finite_check(lo, hi, fmt::format("a finite number from {} to {}", lo, hi));
}

CLI::Validator finite_non_negative() {
  return finite_check(0.0, std::numeric_limits<double>::max(), "a finite number, 0 or more");
}

CLI::Validator finite_number() {
  return finite_check(std::numeric_limits<double>::lowest(), std::numeric_limits<double>::max(), "a finite number");
}

CLI::Option* add_architecture_option(CLI::App& cmd, std::string& arch, const std::string& help) {
  auto names = models::architectures();
  names.insert(names.begin(), models::kAutoArchitecture);
  return cmd
      .add_option("--arch", arch,
                  fmt::format("{}: auto (the default: identified from the checkpoint's tensor names and shapes) or "
                              "one of {}",
                              help, fmt::join(names.begin() + 1, names.end(), ", ")))
      ->check(CLI::IsMember(names))
      ->capture_default_str()
      ->option_text("NAME (default: auto)");  // the names are listed once, in the description
}

void add_model_choice_options(CLI::App& cmd, ModelChoiceArgs& args, const std::string& arch_help) {
  add_architecture_option(cmd, args.arch, arch_help);
  cmd.add_option("--transform-input", args.transform_input,
                 "GoogLeNet and Inception V3 only: whether the model re-normalises its input (torchvision's "
                 "transform_input, which the checkpoint does not record). auto: on when the checkpoint has no "
                 "auxiliary classifiers (fine-tuned from torchvision's weights), off when it has them (built "
                 "without weights)")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->capture_default_str()
      ->option_text("auto|on|off (default: auto)");
  cmd.add_option("--head", args.head,
                 "The classifier head's modules, in order, when the checkpoint's tensors do not say them: "
                 "linear, dropout, dropout(P), relu, relu6, gelu, silu, sigmoid, hardswish, identity (for example "
                 "dropout(0.4),linear,relu,dropout(0.2),linear). Without it, a head of Linear layers is read from "
                 "the checkpoint, with ReLU assumed between them")
      ->check(
          [](const std::string& text) {
            try {
              (void)models::parse_head_spec(text);
              return std::string();
            } catch (const Error& e) {
              return std::string(e.what());
            }
          },
          "MODULES")
      ->option_text("MODULES");
  cmd.add_option("--image-size", args.image_size,
                 "Square input size N (NxN) to export at. Default: the size the model was trained at (224 for most "
                 "families, 299 for Inception V3, a ViT's from its position embedding). A ViT's position embedding "
                 "fits only its trained size; another needs --interpolate-position-embedding. Swin takes any size; "
                 "MaxViT one that keeps every block's map a multiple of 7 (224, 448)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{8192}))
      ->option_text("N");
  cmd.add_flag("--interpolate-position-embedding", args.interpolate_position_embedding,
               "ViT with --image-size other than its trained size: resize the position embedding to the new patch "
               "grid as torchvision's interpolate_embeddings does (bicubic, corners aligned). The model then sees "
               "positions it was not trained on: check its accuracy at the new size");
}

ModelChoice model_choice(const ModelChoiceArgs& args) {
  ModelChoice choice;
  choice.arch = args.arch;
  if (args.transform_input != "auto") choice.transform_input = args.transform_input == "on";
  choice.head = args.head;  // checked when parsed
  if (args.image_size > 0) choice.image_size = args.image_size;
  choice.interpolate_position_embedding = args.interpolate_position_embedding;
  return choice;
}

Progress print_progress() {
  return [](std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  };
}

void add_tolerance_options(CLI::App& cmd, Tolerance& tolerance) {
  cmd.add_option("--atol", tolerance.atol, "Verification: absolute tolerance on logits")
      ->check(finite_non_negative())
      ->capture_default_str();
  cmd.add_option("--rtol", tolerance.rtol,
                 "Verification: relative tolerance; a probe passes when max |diff| <= max(atol + rtol * its largest "
                 "reference logit, spread-multiple * its float32 spread)")
      ->check(finite_non_negative())
      ->capture_default_str();
  cmd.add_option("--spread-multiple", tolerance.spread_multiple,
                 "Verification: how many times its float32 spread (how far the reference moves when rounded "
                 "differently) a probe's difference may reach; 0 turns that allowance off")
      ->check(finite_non_negative())
      ->capture_default_str();
}

std::optional<std::vector<std::string>> labels_from_flag(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return with_error_context("--labels", [&] { return parse_labels(text, ErrorKind::Usage); });
}

}  // namespace pt2onnx::cli
