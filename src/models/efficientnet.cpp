// torchvision's EfficientNet B0-B7 and V2 S/M/L (torchvision/models/
// efficientnet.py, 0.14) as layer graphs with torchvision's module paths, and
// the seed's head classifier = Sequential(Dropout(p), Linear(last_channel,
// num_outputs)). V2's early stages are FusedMBConv blocks: one full 3x3 conv
// in place of the 1x1 expansion and the depthwise conv, and no squeeze-excitation.
//
// Paths of functional ops follow the module whose forward() performs them, as
// torch.onnx names its scopes: the squeeze-excitation's `scale * input` is the
// SE module's path, an MBConv's residual add is the MBConv's path, and the
// top-level torch.flatten is "flatten".
#include <array>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "models/conv_norm_activation.h"
#include "models/families.h"
#include "models/scaling.h"

namespace pt2onnx::models {
namespace {

using nn::LayerKind;
using nn::ValueId;

// One row of Table 1 of the EfficientNet paper, as _efficientnet_conf lists it.
struct StageConfig {
  double expand_ratio;
  std::int64_t kernel;
  std::int64_t stride;
  std::int64_t input_channels;
  std::int64_t out_channels;
  std::int64_t num_layers;
};

constexpr std::array<StageConfig, 7> kStages{{
    {1, 3, 1, 32, 16, 1},
    {6, 3, 2, 16, 24, 2},
    {6, 5, 2, 24, 40, 2},
    {6, 3, 2, 40, 80, 3},
    {6, 5, 1, 80, 112, 3},
    {6, 5, 2, 112, 192, 4},
    {6, 3, 1, 192, 320, 1},
}};

struct EfficientNetVariant {
  std::string_view name;
  double width_mult;
  double depth_mult;
  double bn_eps;            // b5-b7 use BatchNorm2d(eps=0.001)
  std::int64_t input_size;  // crop_size of torchvision's IMAGENET1K weights
};

constexpr std::array<EfficientNetVariant, 8> kEfficientNetVariants{{
    {"efficientnet_b0", 1.0, 1.0, 1e-5, 224},
    {"efficientnet_b1", 1.0, 1.1, 1e-5, 240},
    {"efficientnet_b2", 1.1, 1.2, 1e-5, 288},
    {"efficientnet_b3", 1.2, 1.4, 1e-5, 300},
    {"efficientnet_b4", 1.4, 1.8, 1e-5, 380},
    {"efficientnet_b5", 1.6, 2.2, 1e-3, 456},
    {"efficientnet_b6", 1.8, 2.6, 1e-3, 528},
    {"efficientnet_b7", 2.0, 3.1, 1e-3, 600},
}};

// torchvision's default; the per-block rate grows linearly with the block index.
constexpr double kStochasticDepthProb = 0.2;

std::int64_t adjust_channels(double channels, double width_mult) { return make_divisible(channels * width_mult, 8); }

struct MBConvConfig {
  double expand_ratio;
  std::int64_t kernel;
  std::int64_t stride;
  std::int64_t input_channels;
  std::int64_t out_channels;
  double stochastic_depth_prob;
  double bn_eps;
};

// torchvision's FusedMBConv at `path`: a 3x3 conv that expands (then a 1x1
// projection), or with expand ratio 1 a single 3x3 conv with activation.
ValueId add_fused_mbconv(nn::LayerGraph& g, const std::string& path, ValueId input, const MBConvConfig& c) {
  const bool use_res_connect = c.stride == 1 && c.input_channels == c.out_channels;
  const std::int64_t expanded = adjust_channels(static_cast<double>(c.input_channels), c.expand_ratio);
  ValueId x = input;
  if (expanded != c.input_channels) {
    x = add_conv_norm_activation(g, path + ".block.0", x,
                                 {c.input_channels, expanded, c.kernel, c.stride, 1, c.bn_eps, LayerKind::SiLU});
    x = add_conv_norm_activation(g, path + ".block.1", x, {expanded, c.out_channels, 1, 1, 1, c.bn_eps, std::nullopt});
  } else {
    x = add_conv_norm_activation(g, path + ".block.0", x,
                                 {c.input_channels, c.out_channels, c.kernel, c.stride, 1, c.bn_eps, LayerKind::SiLU});
  }
  if (use_res_connect) {
    x = g.add(LayerKind::StochasticDepth, path + ".stochastic_depth", {x}, nn::DropoutAttrs{c.stochastic_depth_prob});
    x = g.add(LayerKind::Add, path, {x, input});
  }
  return x;
}

// torchvision's MBConv at `path` ("features.2.1").
ValueId add_mbconv(nn::LayerGraph& g, const std::string& path, ValueId input, const MBConvConfig& c) {
  const bool use_res_connect = c.stride == 1 && c.input_channels == c.out_channels;
  const std::int64_t expanded = adjust_channels(static_cast<double>(c.input_channels), c.expand_ratio);
  int index = 0;
  auto next = [&] { return fmt::format("{}.block.{}", path, index++); };

  ValueId x = input;
  if (expanded != c.input_channels) {
    x = add_conv_norm_activation(g, next(), x, {c.input_channels, expanded, 1, 1, 1, c.bn_eps, LayerKind::SiLU});
  }
  x = add_conv_norm_activation(g, next(), x,
                               {expanded, expanded, c.kernel, c.stride, expanded, c.bn_eps, LayerKind::SiLU});
  x = add_squeeze_excitation(g, next(), x, expanded, std::max<std::int64_t>(1, c.input_channels / 4), LayerKind::SiLU,
                             LayerKind::Sigmoid);
  x = add_conv_norm_activation(g, next(), x, {expanded, c.out_channels, 1, 1, 1, c.bn_eps, std::nullopt});
  if (use_res_connect) {
    x = g.add(LayerKind::StochasticDepth, path + ".stochastic_depth", {x}, nn::DropoutAttrs{c.stochastic_depth_prob});
    x = g.add(LayerKind::Add, path, {x, input});
  }
  return x;
}

nn::LayerGraph build_efficientnet(const EfficientNetVariant& v, const nn::ModelOptions& options) {
  nn::LayerGraph g;
  g.arch = std::string(v.name);
  g.input_channels = 3;
  g.input_size = v.input_size;
  g.num_outputs = options.num_outputs;

  std::int64_t total_blocks = 0;
  for (const auto& s : kStages) total_blocks += adjust_depth(s.num_layers, v.depth_mult);

  const std::int64_t stem_channels = adjust_channels(static_cast<double>(kStages[0].input_channels), v.width_mult);
  ValueId x = add_conv_norm_activation(g, "features.0", g.input,
                                       {g.input_channels, stem_channels, 3, 2, 1, v.bn_eps, LayerKind::SiLU});

  std::int64_t block_id = 0;
  std::int64_t last_channels = stem_channels;
  for (std::size_t stage = 0; stage < kStages.size(); ++stage) {
    const StageConfig& s = kStages[stage];
    const std::int64_t in = adjust_channels(static_cast<double>(s.input_channels), v.width_mult);
    const std::int64_t out = adjust_channels(static_cast<double>(s.out_channels), v.width_mult);
    const std::int64_t layers = adjust_depth(s.num_layers, v.depth_mult);
    for (std::int64_t i = 0; i < layers; ++i) {
      MBConvConfig c{s.expand_ratio,
                     s.kernel,
                     i == 0 ? s.stride : 1,
                     i == 0 ? in : out,
                     out,
                     kStochasticDepthProb * static_cast<double>(block_id) / static_cast<double>(total_blocks),
                     v.bn_eps};
      x = add_mbconv(g, fmt::format("features.{}.{}", stage + 1, i), x, c);
      ++block_id;
    }
    last_channels = out;
  }

  const std::int64_t head_channels = 4 * last_channels;
  x = add_conv_norm_activation(g, fmt::format("features.{}", kStages.size() + 1), x,
                               {last_channels, head_channels, 1, 1, 1, v.bn_eps, LayerKind::SiLU});
  x = g.add(LayerKind::AdaptiveAvgPool2d, "avgpool", {x});
  x = g.add(LayerKind::Flatten, "flatten", {x}, nn::FlattenAttrs{1});
  x = g.add(LayerKind::Dropout, "classifier.0", {x}, nn::DropoutAttrs{options.dropout});
  g.add(LayerKind::Linear, "classifier.1", {x}, nn::LinearAttrs{head_channels, options.num_outputs, true});
  return g;
}

// ---- EfficientNet V2 ----

// One row of _efficientnet_conf's V2 settings (Table 4 of the EfficientNetV2 paper).
struct EffV2Stage {
  bool fused;
  double expand_ratio;
  std::int64_t kernel, stride, input_channels, out_channels, num_layers;
};

struct EfficientNetV2Variant {
  std::string_view name;
  std::string_view display;
  std::vector<EffV2Stage> stages;
  std::int64_t input_size;  // crop_size of torchvision's IMAGENET1K weights
};

const std::array<EfficientNetV2Variant, 3> kEfficientNetV2Variants{{
    {"efficientnet_v2_s",
     "EfficientNet-V2-S",
     {{true, 1, 3, 1, 24, 24, 2},
      {true, 4, 3, 2, 24, 48, 4},
      {true, 4, 3, 2, 48, 64, 4},
      {false, 4, 3, 2, 64, 128, 6},
      {false, 6, 3, 1, 128, 160, 9},
      {false, 6, 3, 2, 160, 256, 15}},
     384},
    {"efficientnet_v2_m",
     "EfficientNet-V2-M",
     {{true, 1, 3, 1, 24, 24, 3},
      {true, 4, 3, 2, 24, 48, 5},
      {true, 4, 3, 2, 48, 80, 5},
      {false, 4, 3, 2, 80, 160, 7},
      {false, 6, 3, 1, 160, 176, 14},
      {false, 6, 3, 2, 176, 304, 18},
      {false, 6, 3, 1, 304, 512, 5}},
     480},
    {"efficientnet_v2_l",
     "EfficientNet-V2-L",
     {{true, 1, 3, 1, 32, 32, 4},
      {true, 4, 3, 2, 32, 64, 7},
      {true, 4, 3, 2, 64, 96, 7},
      {false, 4, 3, 2, 96, 192, 10},
      {false, 6, 3, 1, 192, 224, 19},
      {false, 6, 3, 2, 224, 384, 25},
      {false, 6, 3, 1, 384, 640, 7}},
     480},
}};

nn::LayerGraph build_efficientnet_v2(const EfficientNetV2Variant& v, const nn::ModelOptions& options) {
  constexpr double kV2Eps = 1e-3;  // norm_layer = partial(nn.BatchNorm2d, eps=1e-03)
  constexpr std::int64_t kV2LastChannel = 1280;
  nn::LayerGraph g;
  g.arch = std::string(v.name);
  g.input_size = v.input_size;
  g.num_outputs = options.num_outputs;
  std::int64_t total_blocks = 0;
  for (const auto& s : v.stages) total_blocks += s.num_layers;
  ValueId x = add_conv_norm_activation(g, "features.0", g.input,
                                       {3, v.stages[0].input_channels, 3, 2, 1, kV2Eps, LayerKind::SiLU});
  std::int64_t block_id = 0;
  for (std::size_t stage = 0; stage < v.stages.size(); ++stage) {
    const EffV2Stage& s = v.stages[stage];
    for (std::int64_t i = 0; i < s.num_layers; ++i) {
      const MBConvConfig c{s.expand_ratio,
                           s.kernel,
                           i == 0 ? s.stride : 1,
                           i == 0 ? s.input_channels : s.out_channels,
                           s.out_channels,
                           kStochasticDepthProb * static_cast<double>(block_id) / static_cast<double>(total_blocks),
                           kV2Eps};
      const auto path = fmt::format("features.{}.{}", stage + 1, i);
      x = s.fused ? add_fused_mbconv(g, path, x, c) : add_mbconv(g, path, x, c);
      ++block_id;
    }
  }
  x = add_conv_norm_activation(g, fmt::format("features.{}", v.stages.size() + 1), x,
                               {v.stages.back().out_channels, kV2LastChannel, 1, 1, 1, kV2Eps, LayerKind::SiLU});
  x = g.add(LayerKind::AdaptiveAvgPool2d, "avgpool", {x});
  x = g.add(LayerKind::Flatten, "flatten", {x}, nn::FlattenAttrs{1});
  x = g.add(LayerKind::Dropout, "classifier.0", {x}, nn::DropoutAttrs{options.dropout});
  g.add(LayerKind::Linear, "classifier.1", {x}, nn::LinearAttrs{kV2LastChannel, options.num_outputs, true});
  return g;
}

}  // namespace

void register_efficientnet(std::vector<Architecture>& out) {
  for (const EfficientNetVariant& v : kEfficientNetVariants) {
    std::string variant(v.name.substr(v.name.rfind('_') + 1));  // "efficientnet_b0" -> "EfficientNet-B0"
    for (auto& c : variant) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out.push_back({std::string(v.name), "EfficientNet-" + variant, "EfficientNet",
                   [&v](const nn::ModelOptions& o) { return build_efficientnet(v, o); }});
  }
  register_variants(out, kEfficientNetV2Variants, "EfficientNet", build_efficientnet_v2);
}

}  // namespace pt2onnx::models
