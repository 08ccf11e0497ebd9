// Images in, scores out: what `pt2onnx infer` does to each image, as calls a
// C++ program makes on image files or encoded bytes it holds in memory (a
// service receiving uploads). The preprocessing is the training's, read from
// the model's metadata (what `pt2onnx export` recorded), so the tensor equals
// torchvision's for the same image.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pt2onnx/export.h"
#include "pt2onnx/tensor.h"

namespace pt2onnx {

// How scores are made from a model's logits: sigmoid per output (multi-label,
// `infer`'s default), softmax over the outputs (one class), or the logits.
enum class ScoreActivation { Sigmoid, Softmax, None };

struct ClassifierOptions {
  int threads = 0;            // the engine's; 0: the CPUs this process may use
  PreprocessFlags overrides;  // replace parts of the preprocessing the model records
  ScoreActivation activation = ScoreActivation::Sigmoid;
  // Output names instead of the model's (pt2onnx.labels), else output_0, ...
  std::optional<std::vector<std::string>> labels;
};

struct Classification {
  std::vector<float> logits;  // the model's first output for the image
  std::vector<float> scores;  // the activation applied, one per label
};

class Classifier {
 public:
  // Error(BadInput) for an unreadable model or malformed metadata,
  // Error(Unsupported) for a model that does not take one [N, 3, H, W] image
  // input, Error(Usage) for overrides or labels that do not fit it.
  static Classifier load(const std::filesystem::path& model, const ClassifierOptions& options = {});

  Classifier(Classifier&&) noexcept;
  Classifier& operator=(Classifier&&) noexcept;
  ~Classifier();

  [[nodiscard]] const std::vector<std::string>& labels() const;
  [[nodiscard]] ScoreActivation activation() const;

  // The model's image input and first output, for a caller that builds its
  // own batches (a server merging concurrent requests).
  struct Signature {
    std::string input_name;
    std::string output_name;
    std::int64_t fixed_batch = -1;  // a model exported for exactly this many images; -1: any
    std::int64_t height = 0;        // of the preprocessed image, [3, height, width]
    std::int64_t width = 0;
  };
  [[nodiscard]] const Signature& signature() const;
  // The model's metadata_props (pt2onnx.* keys: docs/onnx-metadata.md).
  [[nodiscard]] const std::map<std::string, std::string>& metadata() const;

  // Decodes one encoded image and writes its preprocessed 3 x height x width
  // floats to `out` (exactly that many). Error(BadInput) naming `name` for
  // bytes that are not a readable image. Thread-safe.
  void preprocess(std::span<const std::uint8_t> encoded, const std::string& name, std::span<float> out) const;
  // The logits of each image of a float32 [N, 3, height, width] batch
  // (preprocessed images); a model with a fixed batch runs it in turns of
  // that batch. Thread-safe.
  [[nodiscard]] std::vector<std::vector<float>> run(const Tensor& batch) const;
  // `logits` with `activation` applied.
  [[nodiscard]] static std::vector<float> scores(std::vector<float> logits, ScoreActivation activation);

  // One encoded JPEG, PNG or DICOM file. Error(BadInput) naming `name` for
  // bytes that are not a readable image. Thread-safe: concurrent calls share
  // the loaded model.
  [[nodiscard]] Classification classify(std::span<const std::uint8_t> encoded, const std::string& name = "image") const;
  [[nodiscard]] Classification classify_file(const std::filesystem::path& image) const;
  // Several images run as one batch (faster per image than one by one on a
  // model whose batch the engine runs wide). Error(BadInput) naming the first
  // image that cannot be read, as "image I"; then none is classified.
  [[nodiscard]] std::vector<Classification> classify_batch(
      const std::vector<std::span<const std::uint8_t>>& encoded) const;

 private:
  struct Impl;
  explicit Classifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pt2onnx
