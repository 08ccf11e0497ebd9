// The decode -> preprocess -> batch -> infer pipeline behind `pt2onnx infer`.
// Worker threads decode and preprocess images while the calling thread runs
// the model on the previous batch; results come back in input order.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/tensor.h"
#include "infer/input_walker.h"
#include "vision/image.h"
#include "vision/preprocess.h"

namespace pt2onnx::infer {

// The model as the pipeline sees it.
class BatchEngine {
 public:
  virtual ~BatchEngine() = default;
  // batch: float32 [n, 3, H, W]; returns n rows of raw outputs (logits).
  virtual std::vector<std::vector<float>> run(const Tensor& batch) = 0;
};

struct PipelineOptions {
  vision::PreprocessSpec preprocess;
  vision::Size2 input_size;  // the model's H x W
  vision::ImageLimits limits;
  int batch_size = 32;
  int decode_threads = 1;
};

struct ImageResult {
  std::int64_t position = 0;  // in the stream given to the pipeline
  std::string path;
  std::vector<float> outputs;  // raw, empty on error
  std::string error;           // empty on success
};

struct PipelineStats {
  std::int64_t ok = 0;
  std::int64_t failed = 0;
};

// Pulls inputs from next_input (called under a lock, one thread at a time)
// until it returns nullopt, and calls on_result once per input, in order, on
// the calling thread. An image that cannot be read or preprocessed gives a
// result with its error; an exception from next_input, the engine or
// on_result stops the pipeline and is rethrown after the workers have stopped.
PipelineStats run_pipeline(const std::function<std::optional<InputItem>()>& next_input, BatchEngine& engine,
                           const PipelineOptions& options, const std::function<void(const ImageResult&)>& on_result);

}  // namespace pt2onnx::infer
