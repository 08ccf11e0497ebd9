// The decode -> preprocess -> infer pipeline behind `pt2onnx infer`, in one of
// two shapes; results come back in input order either way.
//  - Image workers, when the engine computes each image on its own: every
//    worker thread decodes an image and runs the model on it, alone on its
//    core. One worker decodes while the others infer, with no batch to wait
//    for and no thread competing with the model for a core.
//  - Batches otherwise: decode threads prepare images while the calling
//    thread runs the model on the previous batch.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "infer/input_walker.h"
#include "pt2onnx/tensor.h"
#include "vision/image.h"
#include "vision/preprocess.h"

namespace pt2onnx::infer {

// The model as the pipeline sees it.
class BatchEngine {
 public:
  virtual ~BatchEngine() = default;
  // batch: float32 [n, 3, H, W]; returns n rows of raw outputs (logits).
  virtual std::vector<std::vector<float>> run(const Tensor& batch) = 0;

  // Whether run_image may be called from any number of threads at once, each
  // call computing one image on its calling thread alone, with the rows run()
  // would give.
  [[nodiscard]] virtual bool runs_images_alone() const { return false; }
  // image: float32 [1, 3, H, W]; its row of raw outputs. Called only when
  // runs_images_alone().
  virtual std::vector<float> run_image(const Tensor& image) { return std::move(run(image).at(0)); }
};

struct PipelineOptions {
  vision::PreprocessSpec preprocess;
  vision::Size2 input_size;  // the model's H x W
  vision::ImageLimits limits;
  int batch_size = 32;
  int decode_threads = 1;  // batches: threads decoding beside the model's
  // When > 0 and the engine runs_images_alone(): that many image workers,
  // each decoding and running its own images (batch_size and decode_threads
  // are then unused).
  int image_workers = 0;
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
