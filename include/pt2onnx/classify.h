// Images in, scores out: what `pt2onnx infer` does to each image, as calls a
// C++ program makes on image files or encoded bytes it holds in memory (a
// service receiving uploads). The preprocessing is the training's, read from
// the model's metadata (what `pt2onnx export` recorded), so the tensor equals
// torchvision's for the same image.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pt2onnx/export.h"

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
