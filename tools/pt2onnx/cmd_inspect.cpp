// pt2onnx inspect FILE [--json] [--key K]
#include <memory>

#include <fmt/format.h>

#include "checkpoint/checkpoint.h"
#include "commands.h"
#include "exporter/onnx_file.h"
#include "exporter/onnx_summary.h"
#include "inspect.h"

namespace pt2onnx::cli {
namespace {

int run_inspect(const InspectOptions& options) {
  // The content decides what the file is, not its extension.
  if (checkpoint::detect_checkpoint_format(options.file)) return inspect_checkpoint(options);
  if (exporter::is_onnx_file(options.file)) {
    fmt::print("{}", options.json ? exporter::onnx_summary_json(options.file).dump(2) + "\n"
                                  : exporter::onnx_summary_text(options.file));
    return 0;
  }
  throw Error(ErrorKind::BadInput,
              "not a checkpoint (torch.save zip, legacy torch.save or safetensors) nor an ONNX model")
      .with_context(fmt::format("file {}", options.file.string()));
}

}  // namespace

void add_inspect_command(CLI::App& app, Action& action) {
  auto options = std::make_shared<InspectOptions>();
  auto* cmd = app.add_subcommand(
      "inspect",
      "Show what a checkpoint (.pth/.pt/.bin from torch.save, or .safetensors) holds: every tensor with its "
      "dtype and shape, the other entries, and totals. Nothing in the file is executed. For an ONNX model: "
      "inputs and outputs with shapes, opset, operator counts, initializer bytes and pt2onnx metadata.");
  cmd->add_option("FILE", options->file, "The file to inspect")->required();
  cmd->add_flag("--json", options->json,
                "Print one JSON object: format, tensors (name, dtype, shape, float64 sum), other entries, totals");
  cmd->add_option("--key", options->key,
                  "Show only the state dict at this dotted path (e.g. model_state_dict, or ema.model)");
  cmd->callback([&action, options] { action = [options] { return run_inspect(*options); }; });
}

}  // namespace pt2onnx::cli
