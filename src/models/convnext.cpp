// torchvision's ConvNeXt tiny, small, base and large (torchvision/models/
// convnext.py, 0.14) as layer graphs with torchvision's module paths.
//
// torchvision permutes each block to channels-last for its LayerNorm and its
// two Linear layers and back; the layer graph keeps [N, C, H, W] throughout
// with per-pixel kinds (LayerNorm2d, PointwiseLinear) that compute the same
// thing from the same parameters, so the Permute modules (block.1, block.6)
// are no layers. A CNBlock's `layer_scale * block(x)` is the LayerScale layer
// at the block's own path (its parameter is the block's), the residual add
// "<block>.add". Stochastic depth is the identity in eval.
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

constexpr double kConvNeXtEps = 1e-6;

// CNBlockConfig(input_channels, out_channels, num_layers); the last stage has no downsampling.
struct ConvNeXtStage {
  std::int64_t channels, num_layers;
};

struct ConvNeXtVariant {
  std::string_view name;
  std::string_view display;
  std::array<ConvNeXtStage, 4> stages;
};

const std::array<ConvNeXtVariant, 4> kConvNeXtVariants{{
    {"convnext_tiny", "ConvNeXt-Tiny", {{{96, 3}, {192, 3}, {384, 9}, {768, 3}}}},
    {"convnext_small", "ConvNeXt-Small", {{{96, 3}, {192, 3}, {384, 27}, {768, 3}}}},
    {"convnext_base", "ConvNeXt-Base", {{{128, 3}, {256, 3}, {512, 27}, {1024, 3}}}},
    {"convnext_large", "ConvNeXt-Large", {{{192, 3}, {384, 3}, {768, 27}, {1536, 3}}}},
}};

ValueId add_layer_norm2d(nn::LayerGraph& g, const std::string& path, ValueId x, std::int64_t channels) {
  return g.add(LayerKind::LayerNorm2d, path, {x}, nn::LayerNormAttrs{channels, kConvNeXtEps});
}

// CNBlock at `path`: depthwise 7x7 conv with bias, LayerNorm, Linear to 4C,
// GELU, Linear back, layer scale, residual.
ValueId add_cnblock(nn::LayerGraph& g, const std::string& path, ValueId input, std::int64_t dim) {
  const auto p = [&](int index) { return fmt::format("{}.block.{}", path, index); };
  ValueId x = g.add(LayerKind::Conv2d, p(0), {input}, conv2d_attrs(dim, dim, 7, 1, 3, dim, true));
  x = add_layer_norm2d(g, p(2), x, dim);
  x = g.add(LayerKind::PointwiseLinear, p(3), {x}, nn::LinearAttrs{dim, 4 * dim, true});
  x = g.add(LayerKind::GELU, p(4), {x});
  x = g.add(LayerKind::PointwiseLinear, p(5), {x}, nn::LinearAttrs{4 * dim, dim, true});
  x = g.add(LayerKind::LayerScale, path, {x}, nn::LayerScaleAttrs{dim});
  x = g.add(LayerKind::StochasticDepth, path + ".stochastic_depth", {x}, nn::DropoutAttrs{0.0});
  return g.add(LayerKind::Add, path + ".add", {x, input});
}

nn::LayerGraph build_convnext(const ConvNeXtVariant& v, const nn::ModelOptions& options) {
  nn::LayerGraph g;
  g.arch = std::string(v.name);
  g.num_outputs = options.num_outputs;
  const std::int64_t stem = v.stages[0].channels;
  ValueId x = g.add(LayerKind::Conv2d, "features.0.0", {g.input}, conv2d_attrs(3, stem, 4, 4, 0, 1, true));
  x = add_layer_norm2d(g, "features.0.1", x, stem);
  int feature = 1;
  for (std::size_t s = 0; s < v.stages.size(); ++s) {
    const auto& stage = v.stages[s];
    const std::string stage_path = fmt::format("features.{}", feature++);
    for (std::int64_t i = 0; i < stage.num_layers; ++i) {
      x = add_cnblock(g, fmt::format("{}.{}", stage_path, i), x, stage.channels);
    }
    if (s + 1 < v.stages.size()) {
      const std::string down = fmt::format("features.{}", feature++);
      x = add_layer_norm2d(g, down + ".0", x, stage.channels);
      x = g.add(LayerKind::Conv2d, down + ".1", {x},
                conv2d_attrs(stage.channels, v.stages[s + 1].channels, 2, 2, 0, 1, true));
    }
  }
  const std::int64_t last = v.stages.back().channels;
  x = g.add(LayerKind::AdaptiveAvgPool2d, "avgpool", {x});
  x = add_layer_norm2d(g, "classifier.0", x, last);
  x = g.add(LayerKind::Flatten, "classifier.1", {x}, nn::FlattenAttrs{1});
  g.add(LayerKind::Linear, "classifier.2", {x}, nn::LinearAttrs{last, options.num_outputs, true});
  return g;
}

}  // namespace

void register_convnext(std::vector<Architecture>& out) {
  register_variants(out, kConvNeXtVariants, "ConvNeXt", build_convnext);
}

}  // namespace pt2onnx::models
