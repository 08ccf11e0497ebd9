// torchvision's DenseNet 121/161/169/201 (torchvision/models/densenet.py,
// 0.14) as layer graphs with torchvision's module paths.
//
// Each dense layer reads the concatenation of the block's input and every
// earlier layer's output (its bn_function's torch.cat, named after the layer,
// "features.denseblock1.denselayer2"); the block's own torch.cat of all of
// them is named after the block. BatchNorm comes before its convolution here
// (pre-activation), so the exporter keeps it as BatchNormalization. forward()
// ends with F.relu, F.adaptive_avg_pool2d and torch.flatten, named after the
// functions, then the classifier Linear (the one a user replaces).
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "models/conv_norm_activation.h"
#include "models/families.h"

namespace pt2onnx::models {
namespace {

using nn::LayerKind;
using nn::ValueId;

struct DenseNetVariant {
  std::string_view name;
  std::string_view display;
  std::int64_t growth_rate;
  std::array<std::int64_t, 4> block_config;
  std::int64_t num_init_features;
};

constexpr std::array<DenseNetVariant, 4> kDenseNetVariants{{
    {"densenet121", "DenseNet-121", 32, {6, 12, 24, 16}, 64},
    {"densenet161", "DenseNet-161", 48, {6, 12, 36, 24}, 96},
    {"densenet169", "DenseNet-169", 32, {6, 12, 32, 32}, 64},
    {"densenet201", "DenseNet-201", 32, {6, 12, 48, 32}, 64},
}};

constexpr std::int64_t kBottleneckSize = 4;  // bn_size

ValueId norm_relu_conv(nn::LayerGraph& g, const std::string& path, std::string_view suffix, ValueId x, std::int64_t in,
                       std::int64_t out, std::int64_t kernel, std::int64_t padding) {
  x = g.add(LayerKind::BatchNorm2d, fmt::format("{}.norm{}", path, suffix), {x}, nn::BatchNormAttrs{in, 1e-5});
  x = g.add(LayerKind::ReLU, fmt::format("{}.relu{}", path, suffix), {x});
  return g.add(LayerKind::Conv2d, fmt::format("{}.conv{}", path, suffix), {x},
               conv2d_attrs(in, out, kernel, 1, padding));
}

nn::LayerGraph build_densenet(const DenseNetVariant& v, const nn::ModelOptions& options) {
  nn::LayerGraph g;
  g.arch = std::string(v.name);
  g.num_outputs = options.num_outputs;
  std::int64_t features = v.num_init_features;
  ValueId x = g.add(LayerKind::Conv2d, "features.conv0", {g.input}, conv2d_attrs(3, features, 7, 2, 3));
  x = g.add(LayerKind::BatchNorm2d, "features.norm0", {x}, nn::BatchNormAttrs{features, 1e-5});
  x = g.add(LayerKind::ReLU, "features.relu0", {x});
  x = g.add(LayerKind::MaxPool2d, "features.pool0", {x}, nn::PoolAttrs{{3, 3}, {2, 2}, {1, 1}});

  for (std::size_t block = 0; block < v.block_config.size(); ++block) {
    const auto block_path = fmt::format("features.denseblock{}", block + 1);
    std::vector<ValueId> parts{x};
    for (std::int64_t i = 0; i < v.block_config[block]; ++i) {
      const auto path = fmt::format("{}.denselayer{}", block_path, i + 1);
      const std::int64_t in = features + i * v.growth_rate;
      ValueId y = g.add(LayerKind::Concat, path, parts);
      y = norm_relu_conv(g, path, "1", y, in, kBottleneckSize * v.growth_rate, 1, 0);
      y = norm_relu_conv(g, path, "2", y, kBottleneckSize * v.growth_rate, v.growth_rate, 3, 1);
      parts.push_back(y);
    }
    x = g.add(LayerKind::Concat, block_path, parts);
    features += v.block_config[block] * v.growth_rate;
    if (block + 1 != v.block_config.size()) {
      const auto path = fmt::format("features.transition{}", block + 1);
      x = norm_relu_conv(g, path, "", x, features, features / 2, 1, 0);
      x = g.add(LayerKind::AvgPool2d, path + ".pool", {x}, nn::PoolAttrs{{2, 2}, {2, 2}, {0, 0}});
      features /= 2;
    }
  }
  x = g.add(LayerKind::BatchNorm2d, "features.norm5", {x}, nn::BatchNormAttrs{features, 1e-5});
  x = g.add(LayerKind::ReLU, "relu", {x});
  x = g.add(LayerKind::AdaptiveAvgPool2d, "adaptive_avg_pool2d", {x});
  x = g.add(LayerKind::Flatten, "flatten", {x}, nn::FlattenAttrs{1});
  g.add(LayerKind::Linear, "classifier", {x}, nn::LinearAttrs{features, options.num_outputs, true});
  return g;
}

}  // namespace

void register_densenet(std::vector<Architecture>& out) {
  register_variants(out, kDenseNetVariants, "DenseNet", build_densenet);
}

}  // namespace pt2onnx::models
