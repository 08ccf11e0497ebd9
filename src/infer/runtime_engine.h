// The pipeline's BatchEngine on top of the pt2onnx runtime (oneDNN).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "infer/pipeline.h"

namespace pt2onnx::infer {

// What infer needs to know of the model's single image input and first output.
struct ModelSignature {
  std::int64_t batch = -1;   // fixed batch size, -1 when symbolic
  std::int64_t height = -1;  // -1 when symbolic
  std::int64_t width = -1;
  std::int64_t num_outputs = -1;  // columns of the first output, -1 when symbolic
  std::string input_name;
  std::string output_name;  // the first output's
};

struct LoadedEngine {
  std::unique_ptr<BatchEngine> engine;
  ModelSignature signature;
};

// Loads the model with `threads` threads for its kernels. Error(Unsupported)
// when the model does not take one [N, 3, H, W] float input, or when this
// build has no runtime.
LoadedEngine load_runtime_engine(const std::filesystem::path& model, int threads);

}  // namespace pt2onnx::infer
