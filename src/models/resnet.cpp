// torchvision's ResNet 18/34/50/101/152, ResNeXt 50 32x4d, 101 32x8d and
// 101 64x4d, and Wide ResNet 50-2 and 101-2 (torchvision/models/resnet.py,
// 0.14) as layer graphs with torchvision's module paths. ResNeXt and Wide
// ResNet are the same network with a Bottleneck whose 3x3 convolution is
// grouped (groups) or wider (width_per_group).
//
// A block calls its one `relu` module two or three times; each call is its own
// layer here, named as torch.onnx names reused scopes: relu, relu_1, relu_2.
// The residual add is named after the block ("layer1.0"), whose forward() does it.
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

enum class BlockKind { Basic, Bottleneck };

struct ResNetVariant {
  std::string_view name;
  std::string_view display;
  BlockKind block;
  std::array<std::int64_t, 4> layers;
  std::int64_t groups = 1;
  std::int64_t width_per_group = 64;
};

constexpr std::array<ResNetVariant, 10> kResNetVariants{{
    {"resnet18", "ResNet-18", BlockKind::Basic, {2, 2, 2, 2}},
    {"resnet34", "ResNet-34", BlockKind::Basic, {3, 4, 6, 3}},
    {"resnet50", "ResNet-50", BlockKind::Bottleneck, {3, 4, 6, 3}},
    {"resnet101", "ResNet-101", BlockKind::Bottleneck, {3, 4, 23, 3}},
    {"resnet152", "ResNet-152", BlockKind::Bottleneck, {3, 8, 36, 3}},
    {"resnext50_32x4d", "ResNeXt-50 32x4d", BlockKind::Bottleneck, {3, 4, 6, 3}, 32, 4},
    {"resnext101_32x8d", "ResNeXt-101 32x8d", BlockKind::Bottleneck, {3, 4, 23, 3}, 32, 8},
    {"resnext101_64x4d", "ResNeXt-101 64x4d", BlockKind::Bottleneck, {3, 4, 23, 3}, 64, 4},
    {"wide_resnet50_2", "Wide ResNet-50-2", BlockKind::Bottleneck, {3, 4, 6, 3}, 1, 128},
    {"wide_resnet101_2", "Wide ResNet-101-2", BlockKind::Bottleneck, {3, 4, 23, 3}, 1, 128},
}};

std::int64_t expansion(BlockKind kind) { return kind == BlockKind::Basic ? 1 : 4; }

ValueId conv(nn::LayerGraph& g, const std::string& path, ValueId x, std::int64_t in, std::int64_t out,
             std::int64_t kernel, std::int64_t stride, std::int64_t padding, std::int64_t groups = 1) {
  return g.add(LayerKind::Conv2d, path, {x}, conv2d_attrs(in, out, kernel, stride, padding, groups));
}

ValueId bn(nn::LayerGraph& g, const std::string& path, ValueId x, std::int64_t channels) {
  return g.add(LayerKind::BatchNorm2d, path, {x}, nn::BatchNormAttrs{channels, 1e-5});
}

// BasicBlock or Bottleneck at `path` ("layer2.0"); the stride sits on the 3x3 conv (ResNet v1.5).
ValueId add_block(nn::LayerGraph& g, const std::string& path, ValueId input, const ResNetVariant& v,
                  std::int64_t inplanes, std::int64_t planes, std::int64_t stride, bool downsample) {
  auto p = [&](std::string_view local) { return fmt::format("{}.{}", path, local); };
  const BlockKind kind = v.block;
  const std::int64_t out_channels = planes * expansion(kind);
  // Bottleneck: width = int(planes * (base_width / 64.0)) * groups, exact in integers.
  const std::int64_t width = planes * v.width_per_group / 64 * v.groups;
  ValueId x = input;
  if (kind == BlockKind::Basic) {
    x = conv(g, p("conv1"), x, inplanes, planes, 3, stride, 1);
    x = bn(g, p("bn1"), x, planes);
    x = g.add(LayerKind::ReLU, p("relu"), {x});
    x = conv(g, p("conv2"), x, planes, planes, 3, 1, 1);
    x = bn(g, p("bn2"), x, planes);
  } else {
    x = conv(g, p("conv1"), x, inplanes, width, 1, 1, 0);
    x = bn(g, p("bn1"), x, width);
    x = g.add(LayerKind::ReLU, p("relu"), {x});
    x = conv(g, p("conv2"), x, width, width, 3, stride, 1, v.groups);
    x = bn(g, p("bn2"), x, width);
    x = g.add(LayerKind::ReLU, p("relu_1"), {x});
    x = conv(g, p("conv3"), x, width, out_channels, 1, 1, 0);
    x = bn(g, p("bn3"), x, out_channels);
  }
  ValueId identity = input;
  if (downsample) {
    identity = conv(g, p("downsample.0"), input, inplanes, out_channels, 1, stride, 0);
    identity = bn(g, p("downsample.1"), identity, out_channels);
  }
  x = g.add(LayerKind::Add, path, {x, identity});
  return g.add(LayerKind::ReLU, p(kind == BlockKind::Basic ? "relu_1" : "relu_2"), {x});
}

nn::LayerGraph build_resnet(const ResNetVariant& v, const nn::ModelOptions& options) {
  nn::LayerGraph g;
  g.arch = std::string(v.name);
  g.input_channels = 3;
  g.input_size = 224;
  g.num_outputs = options.num_outputs;

  std::int64_t inplanes = 64;
  ValueId x = conv(g, "conv1", g.input, g.input_channels, inplanes, 7, 2, 3);
  x = bn(g, "bn1", x, inplanes);
  x = g.add(LayerKind::ReLU, "relu", {x});
  x = g.add(LayerKind::MaxPool2d, "maxpool", {x}, nn::PoolAttrs{{3, 3}, {2, 2}, {1, 1}});

  constexpr std::array<std::int64_t, 4> kPlanes{64, 128, 256, 512};
  for (std::size_t stage = 0; stage < kPlanes.size(); ++stage) {
    const std::int64_t planes = kPlanes[stage];
    const std::int64_t stride = stage == 0 ? 1 : 2;
    for (std::int64_t i = 0; i < v.layers[stage]; ++i) {
      const bool first = i == 0;
      const bool downsample = first && (stride != 1 || inplanes != planes * expansion(v.block));
      x = add_block(g, fmt::format("layer{}.{}", stage + 1, i), x, v, inplanes, planes, first ? stride : 1, downsample);
      inplanes = planes * expansion(v.block);
    }
  }
  x = g.add(LayerKind::AdaptiveAvgPool2d, "avgpool", {x});
  x = g.add(LayerKind::Flatten, "flatten", {x}, nn::FlattenAttrs{1});
  g.add(LayerKind::Linear, "fc", {x}, nn::LinearAttrs{inplanes, options.num_outputs, true});
  return g;
}

}  // namespace

void register_resnet(std::vector<Architecture>& out) {
  register_variants(out, kResNetVariants, "ResNet", build_resnet);
}

}  // namespace pt2onnx::models
