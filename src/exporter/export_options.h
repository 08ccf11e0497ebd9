// What an export is asked to do beyond the layer graph itself: the opset, and
// what the ONNX file records about how the model expects to be fed. Kept as one
// plain struct so that CLI flags can be added one field at a time.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pt2onnx/export.h"
#include "vision/preprocess.h"

namespace pt2onnx::exporter {

inline constexpr int kMinOpset =
    13;  // every op we emit keeps its meaning from 13 on (HardSwish needs 14: decomposed below it)
inline constexpr int kMaxOpset = 17;  // the newest opset libonnx 1.12 knows
using pt2onnx::kDefaultOpset;         // the seed script's opset_version (pt2onnx/export.h)

// The IR version that an opset was released with (onnx/docs/Versioning.md), so
// that older runtimes that accept the opset also accept the file.
std::int64_t ir_version_for_opset(int opset);

// Throws Error(Usage) naming the accepted range.
void check_opset(int opset);

struct ExportOptions {
  int opset = kDefaultOpset;
  // One name per output, in order; none recorded when unset.
  std::optional<std::vector<std::string>> labels;
  // What the model expects in front of it (written as pt2onnx.preprocess.*);
  // unset: resize to the architecture's input size, ImageNet mean and std.
  std::optional<vision::PreprocessSpec> preprocessing;
  // The classifier's dropout probability. Eval mode ignores it; it is recorded so
  // the training configuration can be recreated from the ONNX file alone.
  double dropout = 0.4;
  // Provenance; each is omitted from the metadata when empty.
  std::string checkpoint_file;    // file name only, not the full path
  std::string checkpoint_sha256;  // lowercase hex of the whole file
  std::string checkpoint_key;     // where the state dict was found ("model_state_dict")
};

}  // namespace pt2onnx::exporter
