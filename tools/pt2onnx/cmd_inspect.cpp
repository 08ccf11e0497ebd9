// pt2onnx inspect FILE [--json] [--key K]
#include <memory>

#include "commands.h"
#include "inspect/inspect.h"

namespace pt2onnx::cli {

void add_inspect_command(CLI::App& app, Action& action) {
  auto options = std::make_shared<inspect::InspectOptions>();
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
  cmd->callback([&action, options] {
    action = [options] {
      inspect::inspect_file(*options);
      return static_cast<int>(ExitCode::Ok);
    };
  });
}

}  // namespace pt2onnx::cli
