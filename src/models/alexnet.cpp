// torchvision's AlexNet (torchvision/models/alexnet.py, 0.14; the "one weird
// trick" variant) as a layer graph with torchvision's module paths:
// features (five convs with bias, ReLU, three max pools), avgpool =
// AdaptiveAvgPool2d((6, 6)), torch.flatten, and classifier = Sequential(
// Dropout, Linear, ReLU, Dropout, Linear, ReLU, Linear).
#include <string>

#include "models/conv_norm_activation.h"
#include "models/families.h"

namespace pt2onnx::models {
namespace {

using nn::LayerKind;
using nn::ValueId;

constexpr std::int64_t kAlexPooled = 6;
constexpr std::int64_t kAlexHidden = 4096;
constexpr double kAlexDropout = 0.5;

nn::LayerGraph build_alexnet(const nn::ModelOptions& options) {
  nn::LayerGraph g;
  g.arch = "alexnet";
  g.num_outputs = options.num_outputs;
  const nn::PoolAttrs pool{{3, 3}, {2, 2}, {0, 0}};
  ValueId x = g.add(LayerKind::Conv2d, "features.0", {g.input}, conv2d_attrs(3, 64, 11, 4, 2, 1, true));
  x = g.add(LayerKind::ReLU, "features.1", {x});
  x = g.add(LayerKind::MaxPool2d, "features.2", {x}, pool);
  x = g.add(LayerKind::Conv2d, "features.3", {x}, conv2d_attrs(64, 192, 5, 1, 2, 1, true));
  x = g.add(LayerKind::ReLU, "features.4", {x});
  x = g.add(LayerKind::MaxPool2d, "features.5", {x}, pool);
  x = g.add(LayerKind::Conv2d, "features.6", {x}, conv2d_attrs(192, 384, 3, 1, 1, 1, true));
  x = g.add(LayerKind::ReLU, "features.7", {x});
  x = g.add(LayerKind::Conv2d, "features.8", {x}, conv2d_attrs(384, 256, 3, 1, 1, 1, true));
  x = g.add(LayerKind::ReLU, "features.9", {x});
  x = g.add(LayerKind::Conv2d, "features.10", {x}, conv2d_attrs(256, 256, 3, 1, 1, 1, true));
  x = g.add(LayerKind::ReLU, "features.11", {x});
  x = g.add(LayerKind::MaxPool2d, "features.12", {x}, pool);
  x = g.add(LayerKind::AdaptiveAvgPool2d, "avgpool", {x}, nn::AdaptivePoolAttrs{{kAlexPooled, kAlexPooled}});
  x = g.add(LayerKind::Flatten, "flatten", {x}, nn::FlattenAttrs{1});
  x = g.add(LayerKind::Dropout, "classifier.0", {x}, nn::DropoutAttrs{kAlexDropout});
  x = g.add(LayerKind::Linear, "classifier.1", {x}, nn::LinearAttrs{256 * kAlexPooled * kAlexPooled, kAlexHidden});
  x = g.add(LayerKind::ReLU, "classifier.2", {x});
  x = g.add(LayerKind::Dropout, "classifier.3", {x}, nn::DropoutAttrs{kAlexDropout});
  x = g.add(LayerKind::Linear, "classifier.4", {x}, nn::LinearAttrs{kAlexHidden, kAlexHidden});
  x = g.add(LayerKind::ReLU, "classifier.5", {x});
  g.add(LayerKind::Linear, "classifier.6", {x}, nn::LinearAttrs{kAlexHidden, options.num_outputs});
  return g;
}

}  // namespace

void register_alexnet(std::vector<Architecture>& out) {
  out.push_back({"alexnet", "AlexNet", "AlexNet", build_alexnet});
}

}  // namespace pt2onnx::models
