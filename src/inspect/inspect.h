// `pt2onnx inspect`: what a checkpoint or an ONNX model holds, for people (a
// listing) or programs (one JSON object), printed on stdout. Nothing in the
// file is executed. The ONNX half is onnx_summary.h; the checkpoint half
// (checkpoint_summary.cpp) is compared with torch.load by the oracle tests.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace pt2onnx::inspect {

struct InspectOptions {
  std::filesystem::path file;
  bool json = false;
  std::optional<std::string> key;  // checkpoints: the state dict to show
};

// Decides by content (not the extension) whether the file is a checkpoint or
// an ONNX model and describes it. Error(BadInput) when it is neither.
void inspect_file(const InspectOptions& options);

// Describes a torch.save or safetensors file.
void print_checkpoint_summary(const InspectOptions& options);

}  // namespace pt2onnx::inspect
