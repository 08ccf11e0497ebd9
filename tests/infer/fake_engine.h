// A BatchEngine for tests: each image's outputs are the mean of each of its
// three channels, so a result can be traced back to the image it came from.
// With runs_alone set it also takes single images from several threads at
// once (the pipeline's image workers).
#pragma once

#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "infer/pipeline.h"

namespace pt2onnx::testing {

class ChannelMeanEngine : public infer::BatchEngine {
 public:
  explicit ChannelMeanEngine(bool runs_alone = false) : runs_alone_(runs_alone) {}

  std::vector<std::vector<float>> run(const Tensor& batch) override {
    {
      std::lock_guard lock(mutex_);
      if (throw_on_call_ >= 0 && calls_ == throw_on_call_) throw std::runtime_error("engine failed");
      ++calls_;
      batch_sizes.push_back(batch.dim(0));
    }
    const auto values = batch.f32();
    const std::int64_t plane = batch.dim(2) * batch.dim(3);
    std::vector<std::vector<float>> rows;
    for (std::int64_t n = 0; n < batch.dim(0); ++n) {
      std::vector<float> row;
      for (std::int64_t c = 0; c < 3; ++c) {
        double sum = 0;
        for (std::int64_t i = 0; i < plane; ++i) sum += values[static_cast<std::size_t>((n * 3 + c) * plane + i)];
        row.push_back(static_cast<float>(sum / static_cast<double>(plane)));
      }
      if (throw_on_red_ && row[0] == *throw_on_red_) throw std::runtime_error("engine failed on an image");
      rows.push_back(row);
    }
    return rows;
  }

  [[nodiscard]] bool runs_images_alone() const override { return runs_alone_; }

  std::vector<float> run_image(const Tensor& image) override {
    if (!runs_alone_) throw std::logic_error("run_image on an engine that does not run images alone");
    {
      std::lock_guard lock(mutex_);
      image_threads.insert(std::this_thread::get_id());
    }
    return std::move(run(image).at(0));
  }

  void throw_on_call(int call) { throw_on_call_ = call; }
  // Fails every batch holding an image whose first channel's mean is `red`.
  void throw_on_red(float red) { throw_on_red_ = red; }

  std::vector<std::int64_t> batch_sizes;    // one per call of run() or run_image()
  std::set<std::thread::id> image_threads;  // the threads run_image was called on

 private:
  bool runs_alone_ = false;
  std::mutex mutex_;
  int calls_ = 0;
  int throw_on_call_ = -1;
  std::optional<float> throw_on_red_;
};

}  // namespace pt2onnx::testing
