// torchvision's MaxViT-T (torchvision/models/maxvit.py, 0.14) as a layer graph
// with torchvision's module paths.
//
// A stem of two 3x3 convolutions, then four blocks of MaxVitLayers. Each
// layer is an MBConv (pre-norm BatchNorm, 1x1 expansion, 3x3 depthwise
// convolution, squeeze-excitation, 1x1 projection, residual; the first of a
// block strides 2 and projects its shortcut through a 3x3 average pool and a
// 1x1 convolution), then attention within 7x7 windows of neighbours
// ("window_attention") and within 7x7 groups strided across the whole map
// ("grid_attention"). Each attention layer partitions the [N, C, H, W] map
// into group-major tokens, runs LayerNorm, relative-position attention and a
// residual, LayerNorm, MLP (Linear, GELU, Linear) and a residual, and puts the
// map back. The classifier averages the map, normalises it, and runs Linear,
// Tanh and the last Linear (no bias). Dropout and stochastic depth are
// identities in eval.
//
// Every block's map must split into 7x7 partitions: 224 gives maps of 56, 28,
// 14 and 7.
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

constexpr double kMaxVitBatchNormEps = 1e-3;
constexpr double kMaxVitLayerNormEps = 1e-5;
constexpr std::int64_t kMaxVitPartition = 7;
constexpr std::int64_t kMaxVitHeadDim = 32;
constexpr std::int64_t kMaxVitExpansion = 4;
constexpr std::int64_t kMaxVitMlpRatio = 4;

struct MaxVitVariant {
  std::string_view name;
  std::string_view display;
  std::int64_t stem;
  std::array<std::int64_t, 4> channels;
  std::array<std::int64_t, 4> layers;
};

const std::array<MaxVitVariant, 1> kMaxVitVariants{{
    {"maxvit_t", "MaxViT-T", 64, {64, 128, 256, 512}, {2, 2, 5, 2}},
}};

// MBConv at `path`.
ValueId add_mbconv(nn::LayerGraph& g, const std::string& path, ValueId input, std::int64_t in, std::int64_t out,
                   std::int64_t stride) {
  const auto p = [&](std::string_view child) { return fmt::format("{}.{}", path, child); };
  ValueId shortcut = input;
  if (stride != 1 || in != out) {
    int i = 0;
    if (stride == 2) {
      nn::PoolAttrs pool;
      pool.kernel[0] = pool.kernel[1] = 3;
      pool.stride[0] = pool.stride[1] = 2;
      pool.padding[0] = pool.padding[1] = 1;
      shortcut = g.add(LayerKind::AvgPool2d, p(fmt::format("proj.{}", i++)), {shortcut}, pool);
    }
    shortcut =
        g.add(LayerKind::Conv2d, p(fmt::format("proj.{}", i)), {shortcut}, conv2d_attrs(in, out, 1, 1, 0, 1, true));
  }
  const std::int64_t mid = out * kMaxVitExpansion, squeeze = out / 4;
  ValueId x = g.add(LayerKind::BatchNorm2d, p("layers.pre_norm"), {input}, nn::BatchNormAttrs{in, kMaxVitBatchNormEps});
  x = add_conv_norm_activation(
      g, p("layers.conv_a"), x,
      {.in_channels = in, .out_channels = mid, .kernel = 1, .eps = kMaxVitBatchNormEps, .activation = LayerKind::GELU});
  x = add_conv_norm_activation(g, p("layers.conv_b"), x,
                               {.in_channels = mid,
                                .out_channels = mid,
                                .kernel = 3,
                                .stride = stride,
                                .groups = mid,
                                .eps = kMaxVitBatchNormEps,
                                .activation = LayerKind::GELU});
  x = add_squeeze_excitation(g, p("layers.squeeze_excitation"), x, mid, squeeze, LayerKind::SiLU, LayerKind::Sigmoid);
  x = g.add(LayerKind::Conv2d, p("layers.conv_c"), {x}, conv2d_attrs(mid, out, 1, 1, 0, 1, true));
  x = g.add(LayerKind::StochasticDepth, p("stochastic_depth"), {x}, nn::DropoutAttrs{0.0});
  return g.add(LayerKind::Add, path, {x, shortcut});
}

// PartitionAttentionLayer at `path`, on a map of `channels`.
ValueId add_partition_attention(nn::LayerGraph& g, const std::string& path, ValueId input, std::int64_t channels,
                                bool grid_groups) {
  const auto p = [&](std::string_view child) { return fmt::format("{}.{}", path, child); };
  const nn::PartitionAttrs partition{.channels = channels, .window = kMaxVitPartition, .grid_groups = grid_groups};
  const ValueId tokens = g.add(LayerKind::Partition, p("partition_op"), {input}, partition);
  ValueId x =
      g.add(LayerKind::LayerNorm, p("attn_layer.0"), {tokens}, nn::LayerNormAttrs{channels, kMaxVitLayerNormEps});
  x = g.add(LayerKind::GroupAttention, p("attn_layer.1"), {x},
            nn::WindowAttrs{.dim = channels, .heads = channels / kMaxVitHeadDim, .window = kMaxVitPartition});
  x = g.add(LayerKind::Dropout, p("attn_layer.2"), {x}, nn::DropoutAttrs{0.0});
  x = g.add(LayerKind::StochasticDepth, p("stochastic_dropout"), {x}, nn::DropoutAttrs{0.0});
  const ValueId attended = g.add(LayerKind::Add, p("add"), {tokens, x});
  const std::int64_t hidden = channels * kMaxVitMlpRatio;
  ValueId y =
      g.add(LayerKind::LayerNorm, p("mlp_layer.0"), {attended}, nn::LayerNormAttrs{channels, kMaxVitLayerNormEps});
  y = g.add(LayerKind::TokenLinear, p("mlp_layer.1"), {y}, nn::LinearAttrs{channels, hidden, true});
  y = g.add(LayerKind::GELU, p("mlp_layer.2"), {y});
  y = g.add(LayerKind::TokenLinear, p("mlp_layer.3"), {y}, nn::LinearAttrs{hidden, channels, true});
  y = g.add(LayerKind::Dropout, p("mlp_layer.4"), {y}, nn::DropoutAttrs{0.0});
  y = g.add(LayerKind::StochasticDepth, p("stochastic_dropout_1"), {y}, nn::DropoutAttrs{0.0});
  const ValueId mixed = g.add(LayerKind::Add, p("add_1"), {attended, y});
  return g.add(LayerKind::Departition, p("departition_op"), {mixed}, partition);
}

nn::LayerGraph build_maxvit(const MaxVitVariant& v, const nn::ModelOptions& options) {
  nn::LayerGraph g;
  g.arch = std::string(v.name);
  g.num_outputs = options.num_outputs;
  ValueId x = add_conv_norm_activation(g, "stem.0", g.input,
                                       {.in_channels = 3,
                                        .out_channels = v.stem,
                                        .kernel = 3,
                                        .stride = 2,
                                        .eps = kMaxVitBatchNormEps,
                                        .activation = LayerKind::GELU});
  x = g.add(LayerKind::Conv2d, "stem.1.0", {x}, conv2d_attrs(v.stem, v.stem, 3, 1, 1, 1, true));
  std::int64_t in = v.stem;
  for (std::size_t b = 0; b < v.channels.size(); ++b) {
    for (std::int64_t l = 0; l < v.layers[b]; ++l) {
      const auto path = fmt::format("blocks.{}.layers.{}.layers", b, l);
      const std::int64_t out = v.channels[b];
      x = add_mbconv(g, path + ".MBconv", x, l == 0 ? in : out, out, l == 0 ? 2 : 1);
      x = add_partition_attention(g, path + ".window_attention", x, out, false);
      x = add_partition_attention(g, path + ".grid_attention", x, out, true);
    }
    in = v.channels[b];
  }
  x = g.add(LayerKind::AdaptiveAvgPool2d, "classifier.0", {x});
  x = g.add(LayerKind::Flatten, "classifier.1", {x}, nn::FlattenAttrs{1});
  x = g.add(LayerKind::LayerNorm, "classifier.2", {x}, nn::LayerNormAttrs{in, kMaxVitLayerNormEps});
  x = g.add(LayerKind::Linear, "classifier.3", {x}, nn::LinearAttrs{in, in, true});
  x = g.add(LayerKind::Tanh, "classifier.4", {x});
  g.add(LayerKind::Linear, "classifier.5", {x}, nn::LinearAttrs{in, options.num_outputs, false});
  g.set_token_grids();
  return g;
}

}  // namespace

void register_maxvit(std::vector<Architecture>& out) {
  register_variants(out, kMaxVitVariants, "MaxViT", build_maxvit);
}

}  // namespace pt2onnx::models
