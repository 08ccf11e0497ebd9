// `pt2onnx inspect`: shared by the subcommand (cmd_inspect.cpp) and the
// checkpoint describer (inspect_checkpoint.cpp); ONNX models are described by
// exporter/onnx_summary.h.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace pt2onnx::cli {

struct InspectOptions {
  std::filesystem::path file;
  bool json = false;
  std::optional<std::string> key;  // checkpoints: the state dict to show
};

// Describes a torch.save or safetensors file on stdout; returns the exit code.
int inspect_checkpoint(const InspectOptions& options);

}  // namespace pt2onnx::cli
