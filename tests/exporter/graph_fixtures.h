// Small hand-built layer graphs with deterministic random weights, standing in
// for the model builders in exporter tests, plus a scratch directory.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "exporter/demo_state.h"
#include "nn/layer_graph.h"

namespace pt2onnx::exporter::testing {

inline nn::Conv2dAttrs conv(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride = 1,
                            std::int64_t groups = 1, bool bias = false) {
  nn::Conv2dAttrs a;
  a.in_channels = in;
  a.out_channels = out;
  a.kernel[0] = a.kernel[1] = k;
  a.stride[0] = a.stride[1] = stride;
  a.padding[0] = a.padding[1] = k / 2;
  a.groups = groups;
  a.bias = bias;
  return a;
}

inline nn::BatchNormAttrs bn(std::int64_t n, double eps = 1e-5) { return {n, eps}; }

// An MBConv-shaped miniature of EfficientNet with torchvision's naming: stem
// Conv+BN+SiLU, a depthwise block with squeeze-excitation and a residual with
// stochastic depth, then pool, flatten, Dropout, Linear.
inline nn::LayerGraph tiny_efficientnet(std::int64_t num_outputs = 2, std::uint64_t seed = 7) {
  using K = nn::LayerKind;
  nn::LayerGraph g;
  g.arch = "tiny_efficientnet";
  g.input_size = 16;
  g.num_outputs = num_outputs;
  auto x = g.add(K::Conv2d, "features.0.0", {g.input}, conv(3, 8, 3, 2));
  x = g.add(K::BatchNorm2d, "features.0.1", {x}, bn(8, 1e-3));
  x = g.add(K::SiLU, "features.0.2", {x});
  const auto block_in = x;
  auto y = g.add(K::Conv2d, "features.1.0.block.0.0", {x}, conv(8, 8, 3, 1, 8));
  y = g.add(K::BatchNorm2d, "features.1.0.block.0.1", {y}, bn(8, 1e-3));
  y = g.add(K::SiLU, "features.1.0.block.0.2", {y});
  auto s = g.add(K::AdaptiveAvgPool2d, "features.1.0.block.1.avgpool", {y});
  s = g.add(K::Conv2d, "features.1.0.block.1.fc1", {s}, conv(8, 2, 1, 1, 1, true));
  s = g.add(K::SiLU, "features.1.0.block.1.activation", {s});
  s = g.add(K::Conv2d, "features.1.0.block.1.fc2", {s}, conv(2, 8, 1, 1, 1, true));
  s = g.add(K::Sigmoid, "features.1.0.block.1.scale_activation", {s});
  y = g.add(K::Mul, "features.1.0.block.1.mul", {y, s});
  y = g.add(K::Conv2d, "features.1.0.block.2.0", {y}, conv(8, 8, 1));
  y = g.add(K::BatchNorm2d, "features.1.0.block.2.1", {y}, bn(8, 1e-3));
  y = g.add(K::StochasticDepth, "features.1.0.stochastic_depth", {y}, nn::DropoutAttrs{0.2});
  x = g.add(K::Add, "features.1.0.add", {y, block_in});
  x = g.add(K::AdaptiveAvgPool2d, "avgpool", {x});
  x = g.add(K::Flatten, "flatten", {x}, nn::FlattenAttrs{1});
  x = g.add(K::Dropout, "classifier.0", {x}, nn::DropoutAttrs{0.4});
  nn::LinearAttrs fc{8, num_outputs, true};
  g.add(K::Linear, "classifier.1", {x}, fc);
  bind_demo_params(g, seed);
  return g;
}

// The layer kinds EfficientNet does not use: ReLU, MaxPool, Hardswish,
// Hardsigmoid, a BatchNorm with no Conv before it, a Linear without bias.
inline nn::LayerGraph tiny_mixed(std::int64_t num_outputs = 3, std::uint64_t seed = 11) {
  using K = nn::LayerKind;
  nn::LayerGraph g;
  g.arch = "tiny_mixed";
  g.input_size = 16;
  g.num_outputs = num_outputs;
  auto x = g.add(K::Conv2d, "conv1", {g.input}, conv(3, 4, 3, 1, 1, true));
  x = g.add(K::ReLU, "relu", {x});
  nn::PoolAttrs pool;
  pool.kernel[0] = pool.kernel[1] = 3;
  pool.stride[0] = pool.stride[1] = 2;
  pool.padding[0] = pool.padding[1] = 1;
  x = g.add(K::MaxPool2d, "maxpool", {x}, pool);
  x = g.add(K::BatchNorm2d, "bn", {x}, bn(4));
  x = g.add(K::Hardswish, "hswish", {x});
  x = g.add(K::Hardsigmoid, "hsigmoid", {x});
  x = g.add(K::AdaptiveAvgPool2d, "avgpool", {x});
  x = g.add(K::Flatten, "flatten", {x}, nn::FlattenAttrs{1});
  nn::LinearAttrs fc{4, num_outputs, false};
  g.add(K::Linear, "fc", {x}, fc);
  bind_demo_params(g, seed);
  return g;
}

// A fresh directory under the system temp dir, removed with its contents.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "pt2onnx-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  // Names of the directory's entries, sorted.
  [[nodiscard]] std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(path_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace pt2onnx::exporter::testing
