// torchvision's GoogLeNet (torchvision/models/googlenet.py, 0.14) as a layer
// graph with torchvision's module paths.
//
// Every conv is a BasicConv2d (conv, bn with eps 0.001, F.relu). An Inception
// block's four branches are concatenated under the block's path; as in
// torchvision, its "5x5" branch uses a 3x3 kernel. The auxiliary classifiers
// aux1 and aux2 run only in training: their tensors, when present, are dropped
// with a note. transform_input follows the checkpoint (models/
// conv_norm_activation.h, add_transform_input) unless the user says.
#include <array>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "models/conv_norm_activation.h"
#include "models/families.h"

namespace pt2onnx::models {
namespace {

using nn::LayerKind;
using nn::ValueId;

// Inception(in, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj); a name
// starting with "maxpool" is the max pool between blocks.
struct GoogLeNetStage {
  const char* name;
  std::int64_t in, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj;
};

constexpr std::array<GoogLeNetStage, 11> kGoogLeNetStages{{
    {"inception3a", 192, 64, 96, 128, 16, 32, 32},
    {"inception3b", 256, 128, 128, 192, 32, 96, 64},
    {"maxpool3", 3, 0, 0, 0, 0, 0, 0},
    {"inception4a", 480, 192, 96, 208, 16, 48, 64},
    {"inception4b", 512, 160, 112, 224, 24, 64, 64},
    {"inception4c", 512, 128, 128, 256, 24, 64, 64},
    {"inception4d", 512, 112, 144, 288, 32, 64, 64},
    {"inception4e", 528, 256, 160, 320, 32, 128, 128},
    {"maxpool4", 2, 0, 0, 0, 0, 0, 0},
    {"inception5a", 832, 256, 160, 320, 32, 128, 128},
    {"inception5b", 832, 384, 192, 384, 48, 128, 128},
}};

constexpr std::int64_t kGoogLeNetFeatures = 1024;

nn::PoolAttrs ceil_max_pool(std::int64_t kernel, std::int64_t stride, std::int64_t padding = 0) {
  nn::PoolAttrs p{{kernel, kernel}, {stride, stride}, {padding, padding}};
  p.ceil_mode = true;
  return p;
}

ValueId add_googlenet_inception(nn::LayerGraph& g, const GoogLeNetStage& s, ValueId x) {
  const std::string path = s.name;
  const auto p = [&](const char* local) { return fmt::format("{}.{}", path, local); };
  const ValueId b1 = add_basic_conv2d(g, p("branch1"), x, conv2d_attrs(s.in, s.ch1x1, 1));
  ValueId b2 = add_basic_conv2d(g, p("branch2.0"), x, conv2d_attrs(s.in, s.ch3x3red, 1));
  b2 = add_basic_conv2d(g, p("branch2.1"), b2, conv2d_attrs(s.ch3x3red, s.ch3x3, 3, 1, 1));
  ValueId b3 = add_basic_conv2d(g, p("branch3.0"), x, conv2d_attrs(s.in, s.ch5x5red, 1));
  b3 = add_basic_conv2d(g, p("branch3.1"), b3, conv2d_attrs(s.ch5x5red, s.ch5x5, 3, 1, 1));
  ValueId b4 = g.add(LayerKind::MaxPool2d, p("branch4.0"), {x}, ceil_max_pool(3, 1, 1));
  b4 = add_basic_conv2d(g, p("branch4.1"), b4, conv2d_attrs(s.in, s.pool_proj, 1));
  return g.add(LayerKind::Concat, path, {b1, b2, b3, b4});
}

nn::LayerGraph build_googlenet(const nn::ModelOptions& options) {
  nn::LayerGraph g;
  g.arch = "googlenet";
  g.num_outputs = options.num_outputs;
  g.training_only = {"aux1", "aux2"};
  ValueId x = add_transform_input(g, options, "googlenet");
  x = add_basic_conv2d(g, "conv1", x, conv2d_attrs(3, 64, 7, 2, 3));
  x = g.add(LayerKind::MaxPool2d, "maxpool1", {x}, ceil_max_pool(3, 2));
  x = add_basic_conv2d(g, "conv2", x, conv2d_attrs(64, 64, 1));
  x = add_basic_conv2d(g, "conv3", x, conv2d_attrs(64, 192, 3, 1, 1));
  x = g.add(LayerKind::MaxPool2d, "maxpool2", {x}, ceil_max_pool(3, 2));
  for (const auto& stage : kGoogLeNetStages) {
    if (std::string_view(stage.name).starts_with("maxpool")) {
      x = g.add(LayerKind::MaxPool2d, stage.name, {x}, ceil_max_pool(stage.in, 2));
    } else {
      x = add_googlenet_inception(g, stage, x);
    }
  }
  x = g.add(LayerKind::AdaptiveAvgPool2d, "avgpool", {x});
  x = g.add(LayerKind::Flatten, "flatten", {x}, nn::FlattenAttrs{1});
  x = g.add(LayerKind::Dropout, "dropout", {x}, nn::DropoutAttrs{options.dropout});
  g.add(LayerKind::Linear, "fc", {x}, nn::LinearAttrs{kGoogLeNetFeatures, options.num_outputs, true});
  return g;
}

}  // namespace

void register_googlenet(std::vector<Architecture>& out) {
  out.push_back({"googlenet", "GoogLeNet", "GoogLeNet", build_googlenet});
}

}  // namespace pt2onnx::models
