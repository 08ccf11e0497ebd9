#include "infer/runtime_engine.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "pt2onnx/error.h"
#include "pt2onnx/runtime.h"

namespace pt2onnx::infer {

namespace {

class RuntimeEngine : public BatchEngine {
 public:
  RuntimeEngine(runtime::Model model, std::int64_t fixed_batch) : model_(std::move(model)), fixed_batch_(fixed_batch) {}

  std::vector<std::vector<float>> run(const Tensor& batch) override {
    const std::int64_t n = batch.dim(0);
    std::vector<Tensor> inputs;
    if (fixed_batch_ > 0 && n < fixed_batch_) {
      // A model exported with a fixed batch takes exactly that many images;
      // pad the last, partial batch with zeros and drop their outputs.
      Shape shape = batch.shape();
      shape[0] = fixed_batch_;
      Tensor padded(DType::Float32, shape);
      std::memcpy(padded.bytes().data(), batch.bytes().data(), batch.nbytes());
      inputs.push_back(std::move(padded));
    } else {
      inputs.push_back(batch);
    }
    return rows_of(model_.run(inputs), n);
  }

  [[nodiscard]] bool runs_images_alone() const override { return model_.splits_batch(); }

  std::vector<float> run_image(const Tensor& image) override {
    return std::move(rows_of(model_.run_on_calling_thread({&image, 1}), 1).front());
  }

 private:
  // The first n rows of the first output, as float32.
  static std::vector<std::vector<float>> rows_of(const std::vector<Tensor>& outputs, std::int64_t n) {
    if (outputs.empty()) throw_error(ErrorKind::Internal, "the model returned no outputs");
    const Tensor logits = outputs.front().dtype() == DType::Float32 ? outputs.front() : outputs.front().to_float32();
    if (logits.rank() < 1 || logits.dim(0) < n) {
      throw_error(ErrorKind::Unsupported, fmt::format("the model's first output has shape {} for a batch of {}",
                                                      shape_to_string(logits.shape()), n));
    }
    const std::int64_t per_row = logits.numel() / logits.dim(0);
    const std::span<const float> values = logits.f32();
    std::vector<std::vector<float>> rows(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      const auto begin = values.begin() + i * per_row;
      rows[static_cast<std::size_t>(i)].assign(begin, begin + per_row);
    }
    return rows;
  }

  runtime::Model model_;
  std::int64_t fixed_batch_;
};

}  // namespace

LoadedEngine load_runtime_engine(const std::filesystem::path& model_path, int threads) {
  runtime::Options options;
  options.threads = threads;
  runtime::Model model = runtime::Model::load(model_path, options);
  return with_error_context("model " + model_path.string(), [&] {
    if (model.inputs().size() != 1) {
      throw_error(ErrorKind::Unsupported,
                  fmt::format("the model has {} inputs; infer feeds one image tensor", model.inputs().size()));
    }
    const Shape& in = model.inputs().front().shape;
    if (in.size() != 4 || (in[1] != 3 && in[1] != -1)) {
      throw_error(ErrorKind::Unsupported,
                  fmt::format("the model input has shape {}; infer feeds [N, 3, H, W]", shape_to_string(in)));
    }
    if (model.outputs().empty()) throw_error(ErrorKind::Unsupported, "the model has no outputs");
    LoadedEngine loaded;
    loaded.signature.input_name = model.inputs().front().name;
    loaded.signature.output_name = model.outputs().front().name;
    loaded.signature.batch = in[0];
    loaded.signature.height = in[2];
    loaded.signature.width = in[3];
    const Shape& out = model.outputs().front().shape;
    if (out.size() >= 2) {
      std::int64_t columns = 1;
      for (std::size_t i = 1; i < out.size(); ++i) columns = out[i] < 0 ? -1 : (columns < 0 ? -1 : columns * out[i]);
      loaded.signature.num_outputs = columns;
    }
    loaded.engine = std::make_unique<RuntimeEngine>(std::move(model), in[0]);
    return loaded;
  });
}

}  // namespace pt2onnx::infer
