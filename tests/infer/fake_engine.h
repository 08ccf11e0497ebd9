// A BatchEngine for tests: each image's outputs are the mean of each of its
// three channels, so a result can be traced back to the image it came from.
#pragma once

#include <mutex>
#include <stdexcept>
#include <vector>

#include "infer/pipeline.h"

namespace pt2onnx::testing {

class ChannelMeanEngine : public infer::BatchEngine {
 public:
  std::vector<std::vector<float>> run(const Tensor& batch) override {
    if (throw_on_call_ >= 0 && calls_ == throw_on_call_) throw std::runtime_error("engine failed");
    ++calls_;
    batch_sizes.push_back(batch.dim(0));
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
      rows.push_back(row);
    }
    return rows;
  }

  void throw_on_call(int call) { throw_on_call_ = call; }

  std::vector<std::int64_t> batch_sizes;

 private:
  int calls_ = 0;
  int throw_on_call_ = -1;
};

}  // namespace pt2onnx::testing
