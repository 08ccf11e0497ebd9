// pt2onnx verify MODEL.onnx --checkpoint X.pth: the exported model against the
// PyTorch-semantics reference computed from the checkpoint it came from.
// The flags become a VerifyRequest for the library's verify_export
// (pt2onnx/export.h), whose progress goes to standard output.
#include "commands.h"
#include "common/atomic_file.h"
#include "pt2onnx/export.h"
#include "shared_options.h"

namespace pt2onnx::cli {
namespace {

struct VerifyArgs {
  std::string model;
  std::string checkpoint;
  ModelChoiceArgs choices;
  std::string key;
  Tolerance tolerance;
  std::string json;
  int threads = 0;
};

int run_verify(const VerifyArgs& args) {
  VerifyRequest request;
  request.model = args.model;
  request.checkpoint = args.checkpoint;
  request.key = args.key;
  request.choice = model_choice(args.choices);
  request.tolerance = args.tolerance;
  request.threads = args.threads;
  const auto result = verify_export(request, print_progress());
  if (!args.json.empty()) write_file_atomically(args.json, result.json);
  return static_cast<int>(result.passed ? ExitCode::Ok : ExitCode::VerifyFailed);
}

}  // namespace

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
  cmd->callback([args, &action] { action = [args] { return run_verify(*args); }; });
}

}  // namespace pt2onnx::cli
