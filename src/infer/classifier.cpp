// pt2onnx/classify.h: infer's per-image path (decode, the model's recorded
// preprocessing, the engine, the activation) as calls on bytes in memory.
#include "pt2onnx/classify.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "common/cpu_budget.h"
#include "infer/model_metadata.h"
#include "infer/output_format.h"
#include "infer/runtime_engine.h"
#include "pt2onnx/error.h"
#include "pt2onnx/tensor.h"
#include "vision/image_decoder.h"
#include "vision/preprocess.h"

namespace pt2onnx {

struct Classifier::Impl {
  std::unique_ptr<infer::BatchEngine> engine;
  vision::PreprocessSpec spec;
  vision::Size2 input_size;
  vision::ImageLimits limits;
  std::vector<std::string> labels;
  ScoreActivation activation = ScoreActivation::Sigmoid;
  Signature signature;
  std::map<std::string, std::string> metadata;

  [[nodiscard]] std::int64_t image_floats() const { return std::int64_t{3} * input_size.height * input_size.width; }

  // Decoded and preprocessed into `out`, one image's floats.
  void prepare(std::span<const std::uint8_t> encoded, std::span<float> out) const {
    const auto image = vision::decode_image(encoded, limits);
    vision::preprocess_into(image, spec, input_size, out);
  }
  // The same into image `index` of `batch`.
  void prepare(std::span<const std::uint8_t> encoded, Tensor& batch, std::int64_t index) const {
    const auto floats = static_cast<std::size_t>(image_floats());
    prepare(encoded, batch.f32().subspan(static_cast<std::size_t>(index) * floats, floats));
  }

  [[nodiscard]] Classification finish(std::vector<float> logits) const {
    Classification c;
    c.scores = scores(logits, activation);
    c.logits = std::move(logits);
    return c;
  }

  [[nodiscard]] Tensor batch_of(std::size_t n) const {
    return Tensor(DType::Float32, {static_cast<std::int64_t>(n), 3, input_size.height, input_size.width});
  }
};

Classifier::Classifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Classifier::Classifier(Classifier&&) noexcept = default;
Classifier& Classifier::operator=(Classifier&&) noexcept = default;
Classifier::~Classifier() = default;

Classifier Classifier::load(const std::filesystem::path& model, const ClassifierOptions& options) {
  auto impl = std::make_unique<Impl>();
  const int threads = options.threads > 0 ? options.threads : cpu_budget().cpus;
  // Opened as `infer` opens it (infer/model_metadata.h).
  infer::ImageModel opened = infer::open_image_model(model, options.overrides, options.labels, threads);
  impl->spec = opened.spec;
  impl->input_size = opened.input_size;
  impl->labels = std::move(opened.labels);
  impl->engine = std::move(opened.engine);
  impl->activation = options.activation;
  const auto& sig = opened.signature;
  impl->signature =
      Signature{sig.input_name, sig.output_name, sig.batch, impl->input_size.height, impl->input_size.width};
  impl->metadata = std::move(opened.metadata);
  return Classifier(std::move(impl));
}

const std::vector<std::string>& Classifier::labels() const { return impl_->labels; }
ScoreActivation Classifier::activation() const { return impl_->activation; }
const Classifier::Signature& Classifier::signature() const { return impl_->signature; }
const std::map<std::string, std::string>& Classifier::metadata() const { return impl_->metadata; }

void Classifier::preprocess(std::span<const std::uint8_t> encoded, const std::string& name,
                            std::span<float> out) const {
  if (static_cast<std::int64_t>(out.size()) != impl_->image_floats()) {
    throw_error(ErrorKind::Internal,
                fmt::format("preprocess: {} floats for an image of {}", out.size(), impl_->image_floats()));
  }
  with_error_context(name, [&] { impl_->prepare(encoded, out); });
}

std::vector<std::vector<float>> Classifier::run(const Tensor& batch) const {
  const auto& sig = impl_->signature;
  if (batch.dtype() != DType::Float32 || batch.rank() != 4 || batch.dim(1) != 3 || batch.dim(2) != sig.height ||
      batch.dim(3) != sig.width) {
    throw_error(ErrorKind::BadInput, fmt::format("a batch of shape {} for a model that takes [N, 3, {}, {}]",
                                                 shape_to_string(batch.shape()), sig.height, sig.width));
  }
  const std::int64_t n = batch.dim(0);
  if (sig.fixed_batch <= 0 || n <= sig.fixed_batch) return impl_->engine->run(batch);
  // In turns of the model's batch (the engine pads the last).
  std::vector<std::vector<float>> rows;
  rows.reserve(static_cast<std::size_t>(n));
  const auto floats = static_cast<std::size_t>(impl_->image_floats());
  for (std::int64_t start = 0; start < n; start += sig.fixed_batch) {
    const std::int64_t count = std::min(sig.fixed_batch, n - start);
    Tensor part = impl_->batch_of(static_cast<std::size_t>(count));
    const auto source =
        batch.f32().subspan(static_cast<std::size_t>(start) * floats, static_cast<std::size_t>(count) * floats);
    std::copy(source.begin(), source.end(), part.f32().begin());
    for (auto& row : impl_->engine->run(part)) rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<float> Classifier::scores(std::vector<float> logits, ScoreActivation activation) {
  infer::apply_activation(activation, logits);
  return logits;
}

Classification Classifier::classify(std::span<const std::uint8_t> encoded, const std::string& name) const {
  Tensor image = impl_->batch_of(1);
  with_error_context(name, [&] { impl_->prepare(encoded, image, 0); });
  // A model whose images the engine computes one per thread runs this one on
  // the calling thread alone, so that concurrent callers do not wait for each other.
  auto row =
      impl_->engine->runs_images_alone() ? impl_->engine->run_image(image) : std::move(impl_->engine->run(image).at(0));
  return impl_->finish(std::move(row));
}

Classification Classifier::classify_file(const std::filesystem::path& image) const {
  const auto bytes = with_error_context(fmt::format("file {}", image.string()),
                                        [&] { return vision::read_file_bytes(image, impl_->limits); });
  return classify(bytes, fmt::format("file {}", image.string()));
}

std::vector<Classification> Classifier::classify_batch(
    const std::vector<std::span<const std::uint8_t>>& encoded) const {
  // Every image is read before any runs: one that cannot be stops the batch.
  // run() takes a model with a fixed batch through it in turns.
  if (encoded.empty()) return {};
  Tensor batch = impl_->batch_of(encoded.size());
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    with_error_context(fmt::format("image {}", i),
                       [&] { impl_->prepare(encoded[i], batch, static_cast<std::int64_t>(i)); });
  }
  std::vector<Classification> out;
  out.reserve(encoded.size());
  for (auto& row : run(batch)) out.push_back(impl_->finish(std::move(row)));
  return out;
}

}  // namespace pt2onnx
