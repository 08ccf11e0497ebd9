// torchvision's MobileNet V2 and V3 small/large (torchvision/models/
// mobilenetv2.py and mobilenetv3.py, 0.14) as layer graphs with torchvision's
// module paths, at width multiplier 1.0.
//
// As in the other families, a functional op takes the path of the module whose
// forward() performs it: an inverted residual's `result += input` is the
// block's path ("features.3"), V2's functional adaptive_avg_pool2d and the
// top-level torch.flatten are named after the function.
#include <array>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "models/conv_norm_activation.h"
#include "models/families.h"
#include "models/scaling.h"

namespace pt2onnx::models {
namespace {

using nn::LayerKind;
using nn::ValueId;

constexpr std::int64_t kRoundNearest = 8;

// ---- MobileNet V2 ----

// expand ratio t, output channels c, repeats n, first stride s (the paper's Table 2).
struct V2Stage {
  std::int64_t t, c, n, s;
};
constexpr std::array<V2Stage, 7> kV2Stages{{
    {1, 16, 1, 1},
    {6, 24, 2, 2},
    {6, 32, 3, 2},
    {6, 64, 4, 2},
    {6, 96, 3, 1},
    {6, 160, 3, 2},
    {6, 320, 1, 1},
}};

// mobilenetv2.InvertedResidual at `path`: conv = Sequential([expand CNA,] depthwise CNA, Conv2d, BatchNorm2d).
ValueId add_v2_block(nn::LayerGraph& g, const std::string& path, ValueId input, std::int64_t in, std::int64_t out,
                     std::int64_t stride, std::int64_t expand_ratio) {
  const std::int64_t hidden = in * expand_ratio;  // int(round(inp * expand_ratio)) of whole numbers
  int index = 0;
  auto next = [&] { return fmt::format("{}.conv.{}", path, index++); };
  ValueId x = input;
  if (expand_ratio != 1) x = add_conv_norm_activation(g, next(), x, {in, hidden, 1, 1, 1, 1e-5, LayerKind::ReLU6});
  x = add_conv_norm_activation(g, next(), x, {hidden, hidden, 3, stride, hidden, 1e-5, LayerKind::ReLU6});
  x = g.add(LayerKind::Conv2d, next(), {x}, conv2d_attrs(hidden, out, 1));
  x = g.add(LayerKind::BatchNorm2d, next(), {x}, nn::BatchNormAttrs{out, 1e-5});
  if (stride == 1 && in == out) x = g.add(LayerKind::Add, path, {x, input});
  return x;
}

nn::LayerGraph build_mobilenet_v2(const nn::ModelOptions& options) {
  nn::LayerGraph g;
  g.arch = "mobilenet_v2";
  g.num_outputs = options.num_outputs;
  std::int64_t channels = make_divisible(32.0, kRoundNearest);
  const std::int64_t last_channel = make_divisible(1280.0, kRoundNearest);
  ValueId x = add_conv_norm_activation(g, "features.0", g.input, {3, channels, 3, 2, 1, 1e-5, LayerKind::ReLU6});
  int feature = 1;
  for (const auto& s : kV2Stages) {
    const std::int64_t out = make_divisible(static_cast<double>(s.c), kRoundNearest);
    for (std::int64_t i = 0; i < s.n; ++i) {
      x = add_v2_block(g, fmt::format("features.{}", feature++), x, channels, out, i == 0 ? s.s : 1, s.t);
      channels = out;
    }
  }
  x = add_conv_norm_activation(g, fmt::format("features.{}", feature), x,
                               {channels, last_channel, 1, 1, 1, 1e-5, LayerKind::ReLU6});
  x = g.add(LayerKind::AdaptiveAvgPool2d, "adaptive_avg_pool2d", {x});
  x = g.add(LayerKind::Flatten, "flatten", {x}, nn::FlattenAttrs{1});
  x = g.add(LayerKind::Dropout, "classifier.0", {x}, nn::DropoutAttrs{options.dropout});
  g.add(LayerKind::Linear, "classifier.1", {x}, nn::LinearAttrs{last_channel, options.num_outputs, true});
  return g;
}

// ---- MobileNet V3 ----

// bneck_conf(input, kernel, expanded, out, use_se, activation, stride, dilation 1).
struct V3Block {
  std::int64_t in, kernel, expanded, out;
  bool se;
  bool hardswish;  // "HS"; else "RE" (ReLU)
  std::int64_t stride;
};

constexpr std::array<V3Block, 15> kV3Large{{
    {16, 3, 16, 16, false, false, 1},
    {16, 3, 64, 24, false, false, 2},
    {24, 3, 72, 24, false, false, 1},
    {24, 5, 72, 40, true, false, 2},
    {40, 5, 120, 40, true, false, 1},
    {40, 5, 120, 40, true, false, 1},
    {40, 3, 240, 80, false, true, 2},
    {80, 3, 200, 80, false, true, 1},
    {80, 3, 184, 80, false, true, 1},
    {80, 3, 184, 80, false, true, 1},
    {80, 3, 480, 112, true, true, 1},
    {112, 3, 672, 112, true, true, 1},
    {112, 5, 672, 160, true, true, 2},
    {160, 5, 960, 160, true, true, 1},
    {160, 5, 960, 160, true, true, 1},
}};

constexpr std::array<V3Block, 11> kV3Small{{
    {16, 3, 16, 16, true, false, 2},
    {16, 3, 72, 24, false, false, 2},
    {24, 3, 88, 24, false, false, 1},
    {24, 5, 96, 40, true, true, 2},
    {40, 5, 240, 40, true, true, 1},
    {40, 5, 240, 40, true, true, 1},
    {40, 5, 120, 48, true, true, 1},
    {48, 5, 144, 48, true, true, 1},
    {48, 5, 288, 96, true, true, 2},
    {96, 5, 576, 96, true, true, 1},
    {96, 5, 576, 96, true, true, 1},
}};

struct V3Variant {
  std::string_view name;
  std::string_view display;
  const V3Block* blocks;
  std::size_t count;
  std::int64_t last_channel;
};

const std::array<V3Variant, 2> kV3Variants{{
    {"mobilenet_v3_large", "MobileNet-V3-Large", kV3Large.data(), kV3Large.size(), 1280},
    {"mobilenet_v3_small", "MobileNet-V3-Small", kV3Small.data(), kV3Small.size(), 1024},
}};

// mobilenetv3.InvertedResidual at `path`: block = Sequential([expand CNA,] depthwise CNA, [SE,] project CNA).
ValueId add_v3_block(nn::LayerGraph& g, const std::string& path, ValueId input, const V3Block& b) {
  constexpr double kEps = 1e-3;  // norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
  const LayerKind act = b.hardswish ? LayerKind::Hardswish : LayerKind::ReLU;
  int index = 0;
  auto next = [&] { return fmt::format("{}.block.{}", path, index++); };
  ValueId x = input;
  if (b.expanded != b.in) x = add_conv_norm_activation(g, next(), x, {b.in, b.expanded, 1, 1, 1, kEps, act});
  x = add_conv_norm_activation(g, next(), x, {b.expanded, b.expanded, b.kernel, b.stride, b.expanded, kEps, act});
  if (b.se) {
    const std::int64_t quarter = b.expanded / 4;  // _make_divisible(expanded_channels // 4, 8)
    x = add_squeeze_excitation(g, next(), x, b.expanded, make_divisible(static_cast<double>(quarter), kRoundNearest),
                               LayerKind::ReLU, LayerKind::Hardsigmoid);
  }
  x = add_conv_norm_activation(g, next(), x, {b.expanded, b.out, 1, 1, 1, kEps, std::nullopt});
  if (b.stride == 1 && b.in == b.out) x = g.add(LayerKind::Add, path, {x, input});
  return x;
}

nn::LayerGraph build_mobilenet_v3(const V3Variant& v, const nn::ModelOptions& options) {
  nn::LayerGraph g;
  g.arch = std::string(v.name);
  g.num_outputs = options.num_outputs;
  ValueId x =
      add_conv_norm_activation(g, "features.0", g.input, {3, v.blocks[0].in, 3, 2, 1, 1e-3, LayerKind::Hardswish});
  for (std::size_t i = 0; i < v.count; ++i) x = add_v3_block(g, fmt::format("features.{}", i + 1), x, v.blocks[i]);
  const std::int64_t last_in = v.blocks[v.count - 1].out, last_out = 6 * last_in;
  x = add_conv_norm_activation(g, fmt::format("features.{}", v.count + 1), x,
                               {last_in, last_out, 1, 1, 1, 1e-3, LayerKind::Hardswish});
  x = g.add(LayerKind::AdaptiveAvgPool2d, "avgpool", {x});
  x = g.add(LayerKind::Flatten, "flatten", {x}, nn::FlattenAttrs{1});
  x = g.add(LayerKind::Linear, "classifier.0", {x}, nn::LinearAttrs{last_out, v.last_channel, true});
  x = g.add(LayerKind::Hardswish, "classifier.1", {x});
  x = g.add(LayerKind::Dropout, "classifier.2", {x}, nn::DropoutAttrs{options.dropout});
  g.add(LayerKind::Linear, "classifier.3", {x}, nn::LinearAttrs{v.last_channel, options.num_outputs, true});
  return g;
}

}  // namespace

void register_mobilenet(std::vector<Architecture>& out) {
  out.push_back({"mobilenet_v2", "MobileNet-V2", "MobileNet", build_mobilenet_v2});
  register_variants(out, kV3Variants, "MobileNet", build_mobilenet_v3);
}

}  // namespace pt2onnx::models
