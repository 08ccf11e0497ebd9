// `pt2onnx export`: the seed script's 04_export.py. The flags become an
// ExportRequest for the library's export_checkpoint (pt2onnx/export.h), whose
// progress goes to standard output.
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "commands.h"
#include "common/atomic_file.h"
#include "exporter/export_options.h"
#include "pt2onnx/export.h"
#include "shared_options.h"

namespace pt2onnx::cli {
namespace {

struct ExportArgs {
  std::string input = "models/model.pth";
  std::string output;  // default: the input with the extension .onnx
  ModelChoiceArgs choices;
  double dropout = 0.4;  // the seed's create_model default
  int opset = kDefaultOpset;
  std::string labels;
  std::string key;
  bool no_verify = false;
  Tolerance tolerance;
  PreprocessOptions preprocess;  // recorded for `pt2onnx infer`
};

int run_export(const ExportArgs& args) {
  ExportRequest request;
  request.checkpoint = args.input;
  request.output = args.output;
  request.key = args.key;
  request.choice = model_choice(args.choices);
  request.dropout = args.dropout;
  request.opset = args.opset;
  request.labels = labels_from_flag(args.labels);
  request.preprocessing = args.preprocess.flags();
  request.verify = !args.no_verify;
  request.tolerance = args.tolerance;
  // "--output -": the model alone on standard output, the progress on standard error.
  if (is_standard_output(request.output)) keep_standard_output_for_data();
  const auto result = export_checkpoint(request, print_progress());
  fmt::print("Next: Run inference with: pt2onnx infer {} IMAGES...\n", result.output.string());
  return static_cast<int>(ExitCode::Ok);
}

}  // namespace

void add_export_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<ExportArgs>();
  auto* cmd =
      app.add_subcommand("export", "Export a PyTorch checkpoint to a checked ONNX model (the seed's 04_export.py)");
  cmd->add_option("--input", args->input, "Checkpoint to read")->capture_default_str();
  cmd->add_option("--output", args->output,
                  "ONNX file to write; '-' for standard output (default: the input with extension .onnx)");
  add_model_choice_options(*cmd, args->choices, "Architecture the checkpoint was trained as");
  cmd->add_option("--dropout", args->dropout, "Classifier dropout of the training model (recorded; off in eval)")
      ->check(finite_in(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--opset", args->opset, fmt::format("ONNX opset, {} to {}", exporter::kMinOpset, exporter::kMaxOpset))
      ->capture_default_str();
  cmd->add_option("--labels", args->labels,
                  "Output names, comma separated (default: the checkpoint's 'labels' entry, else none)");
  cmd->add_option("--key", args->key, "Key of the state dict inside the checkpoint (default: found automatically)");
  cmd->add_flag("--no-verify", args->no_verify,
                "Skip the numeric verification (reference vs runtime on several probes) of the written model");
  add_preprocess_options(*cmd, args->preprocess, PreprocessRole::Record);
  add_tolerance_options(*cmd, args->tolerance);
  cmd->callback([args, &action] { action = [args] { return run_export(*args); }; });
}

}  // namespace pt2onnx::cli
