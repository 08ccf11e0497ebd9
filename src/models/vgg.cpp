// torchvision's VGG 11, 13, 16 and 19, with and without BatchNorm
// (torchvision/models/vgg.py, 0.14) as layer graphs with torchvision's module
// paths: features is one Sequential of 3x3 convs with bias ([BatchNorm2d,]
// ReLU) and 2x2 max pools, numbered in order; then avgpool =
// AdaptiveAvgPool2d((7, 7)), torch.flatten, and classifier = Sequential(
// Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear).
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

constexpr std::int64_t kVggPool = 0;  // "M" in torchvision's configurations
constexpr std::int64_t kVggPooled = 7;
constexpr std::int64_t kVggHidden = 4096;
constexpr double kVggDropout = 0.5;

// torchvision's cfgs "A", "B", "D", "E": output channels of each conv, kVggPool for a max pool.
const std::vector<std::int64_t> kVggA{64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0};
const std::vector<std::int64_t> kVggB{64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0};
const std::vector<std::int64_t> kVggD{64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
const std::vector<std::int64_t> kVggE{64,  64,  0,   128, 128, 0,   256, 256, 256, 256, 0,
                                      512, 512, 512, 512, 0,   512, 512, 512, 512, 0};

struct VggVariant {
  std::string_view name;
  std::string_view display;
  const std::vector<std::int64_t>* config;
  bool batch_norm;
};

const std::array<VggVariant, 8> kVggVariants{{
    {"vgg11", "VGG-11", &kVggA, false},
    {"vgg11_bn", "VGG-11-BN", &kVggA, true},
    {"vgg13", "VGG-13", &kVggB, false},
    {"vgg13_bn", "VGG-13-BN", &kVggB, true},
    {"vgg16", "VGG-16", &kVggD, false},
    {"vgg16_bn", "VGG-16-BN", &kVggD, true},
    {"vgg19", "VGG-19", &kVggE, false},
    {"vgg19_bn", "VGG-19-BN", &kVggE, true},
}};

nn::LayerGraph build_vgg(const VggVariant& v, const nn::ModelOptions& options) {
  nn::LayerGraph g;
  g.arch = std::string(v.name);
  g.num_outputs = options.num_outputs;
  ValueId x = g.input;
  std::int64_t channels = 3;
  int index = 0;
  const auto next = [&] { return fmt::format("features.{}", index++); };
  for (const std::int64_t out : *v.config) {
    if (out == kVggPool) {
      x = g.add(LayerKind::MaxPool2d, next(), {x}, nn::PoolAttrs{{2, 2}, {2, 2}, {0, 0}});
      continue;
    }
    x = g.add(LayerKind::Conv2d, next(), {x}, conv2d_attrs(channels, out, 3, 1, 1, 1, true));
    if (v.batch_norm) x = g.add(LayerKind::BatchNorm2d, next(), {x}, nn::BatchNormAttrs{out, 1e-5});
    x = g.add(LayerKind::ReLU, next(), {x});
    channels = out;
  }
  x = g.add(LayerKind::AdaptiveAvgPool2d, "avgpool", {x}, nn::AdaptivePoolAttrs{{kVggPooled, kVggPooled}});
  x = g.add(LayerKind::Flatten, "flatten", {x}, nn::FlattenAttrs{1});
  x = g.add(LayerKind::Linear, "classifier.0", {x}, nn::LinearAttrs{channels * kVggPooled * kVggPooled, kVggHidden});
  x = g.add(LayerKind::ReLU, "classifier.1", {x});
  x = g.add(LayerKind::Dropout, "classifier.2", {x}, nn::DropoutAttrs{kVggDropout});
  x = g.add(LayerKind::Linear, "classifier.3", {x}, nn::LinearAttrs{kVggHidden, kVggHidden});
  x = g.add(LayerKind::ReLU, "classifier.4", {x});
  x = g.add(LayerKind::Dropout, "classifier.5", {x}, nn::DropoutAttrs{kVggDropout});
  g.add(LayerKind::Linear, "classifier.6", {x}, nn::LinearAttrs{kVggHidden, options.num_outputs});
  return g;
}

}  // namespace

void register_vgg(std::vector<Architecture>& out) { register_variants(out, kVggVariants, "VGG", build_vgg); }

}  // namespace pt2onnx::models
