// pt2onnx verify MODEL.onnx --checkpoint X.pth: the exported model against the
// PyTorch-semantics reference computed from the checkpoint it came from.
#include <cstdio>
#include <fstream>

#include <fmt/format.h>

#include "checkpoint/checkpoint.h"
#include "commands.h"
#include "common/atomic_file.h"
#include "models/registry.h"
#include "shared_options.h"
#include "verification.h"
#include "verify/verify.h"

namespace pt2onnx::cli {
namespace {

struct VerifyArgs {
  std::string model;
  std::string checkpoint;
  ModelChoiceArgs choices;
  std::string key;
  verify::Tolerance tolerance;
  std::string json;
  int threads = 0;
};

}  // namespace

int run_verification(const std::filesystem::path& model, const nn::LayerGraph& graph, const verify::Options& options,
                     const std::string& json_path) {
  const auto report = verify::verify_model(model, graph, options);
  std::fflush(stdout);
  verify::print_structure(report.structure, stdout);
  verify::print_report(report, stdout);
  if (!json_path.empty()) write_file_atomically(json_path, verify::report_to_json(report).dump(2) + "\n");
  return static_cast<int>(report.passed() ? ExitCode::Ok : ExitCode::VerifyFailed);
}

void add_tolerance_options(CLI::App& cmd, verify::Tolerance& tolerance) {
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

void add_verify_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<VerifyArgs>();
  auto* cmd = app.add_subcommand("verify",
                                 "Check an exported ONNX model against the checkpoint it came from: ONNX structure, "
                                 "then the PyTorch-semantics reference against the pt2onnx runtime on several probes.");
  cmd->add_option("model", args->model, "The .onnx model")->required()->check(CLI::ExistingFile);
  cmd->add_option("--checkpoint", args->checkpoint, "The .pth or .safetensors checkpoint it was exported from")
      ->required()
      ->check(CLI::ExistingFile);
  add_model_choice_options(*cmd, args->choices, "Architecture of the checkpoint");
  cmd->add_option("--key", args->key, "Where the state dict sits in the checkpoint (default: found automatically)");
  add_tolerance_options(*cmd, args->tolerance);
  cmd->add_option("--json", args->json, "Also write the whole report as JSON to this file");
  add_threads_option(*cmd, args->threads,
                     "Runtime threads (0, the default: one; the reference runs beside it, one image per core)");
  cmd->callback([args, &action] {
    action = [args] {
      fmt::print("Loading checkpoint {}...\n", args->checkpoint);
      const auto loaded =
          checkpoint::load_state_dict(args->checkpoint, args->key.empty() ? std::nullopt : std::optional(args->key));
      const auto graph = with_error_context(fmt::format("checkpoint {}", args->checkpoint), [&] {
        return build_checkpoint_graph(args->choices, loaded.state_dict, 0.0);
      });
      fmt::print("Verifying {}...\n", args->model);
      verify::Options options;
      options.tolerance = args->tolerance;
      options.threads = args->threads;
      return run_verification(args->model, graph, options, args->json);
    };
  });
}

}  // namespace pt2onnx::cli
