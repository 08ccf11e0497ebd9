// pt2onnx inspect FILE [--json] [--key K]
#include <memory>

#include <fmt/format.h>

#include "checkpoint/checkpoint.h"
#include "commands.h"
#include "inspect.h"

namespace pt2onnx::cli {
namespace {

int run_inspect(const InspectOptions& options) {
  // The content decides what the file is, not its extension.
  if (checkpoint::detect_checkpoint_format(options.file)) return inspect_checkpoint(options);
  // Further kinds of file hook in here, e.g. `if (looks_like_onnx(options.file)) return inspect_onnx(options);`
  throw Error(ErrorKind::BadInput,
              "not a checkpoint: neither a torch.save zip, a legacy torch.save file nor safetensors")
      .with_context(fmt::format("file {}", options.file.string()));
}

}  // namespace

void add_inspect_command(CLI::App& app, Action& action) {
  auto options = std::make_shared<InspectOptions>();
  auto* cmd = app.add_subcommand(
      "inspect",
      "Show what a checkpoint (.pth/.pt/.bin from torch.save, or .safetensors) holds: every tensor with its "
      "dtype and shape, the other entries, and totals. Nothing in the file is executed.");
  cmd->add_option("FILE", options->file, "The file to inspect")->required();
  cmd->add_flag("--json", options->json,
                "Print one JSON object: format, tensors (name, dtype, shape, float64 sum), other entries, totals");
  cmd->add_option("--key", options->key,
                  "Show only the state dict at this dotted path (e.g. model_state_dict, or ema.model)");
  cmd->callback([&action, options] { action = [options] { return run_inspect(*options); }; });
}

}  // namespace pt2onnx::cli
