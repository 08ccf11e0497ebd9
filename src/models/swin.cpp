// torchvision's Swin Transformers T, S and B (torchvision/models/swin_transformer.py,
// 0.14) as layer graphs with torchvision's module paths.
//
// A 4x4 patch convolution makes an h x w grid of tokens; torchvision keeps it
// as [N, h, w, C] and we as the tokens [N, h * w, C] of that grid, which is
// the same memory. Four stages of blocks follow, with a PatchMerging between
// stages that halves the grid and doubles the channels. A block is LayerNorm,
// attention within 7x7 windows (every second block shifted by 3), residual;
// LayerNorm, MLP (Linear, GELU, Linear), residual. The final LayerNorm is
// averaged over the tokens (torchvision's permute, avgpool and flatten) into
// the head. Dropout and stochastic depth are identities in eval.
//
// Nothing in a Swin depends on the image size: windows are padded to whole
// windows and the bias table is per window, so any size works.
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

constexpr double kSwinLayerNormEps = 1e-5;
constexpr std::int64_t kSwinPatch = 4;
constexpr std::int64_t kSwinWindow = 7;
constexpr std::int64_t kSwinMlpRatio = 4;

struct SwinVariant {
  std::string_view name;
  std::string_view display;
  std::int64_t embed_dim;
  std::array<std::int64_t, 4> depths;
  std::array<std::int64_t, 4> heads;
  double stochastic_depth;
};

const std::array<SwinVariant, 3> kSwinVariants{{
    {"swin_t", "Swin-T", 96, {2, 2, 6, 2}, {3, 6, 12, 24}, 0.2},
    {"swin_s", "Swin-S", 96, {2, 2, 18, 2}, {3, 6, 12, 24}, 0.3},
    {"swin_b", "Swin-B", 128, {2, 2, 18, 2}, {4, 8, 16, 32}, 0.5},
}};

ValueId add_swin_layer_norm(nn::LayerGraph& g, const std::string& path, ValueId x, std::int64_t dim) {
  return g.add(LayerKind::LayerNorm, path, {x}, nn::LayerNormAttrs{dim, kSwinLayerNormEps});
}

// SwinTransformerBlock at `path`; stochastic depth's rate is `drop`.
ValueId add_swin_block(nn::LayerGraph& g, const std::string& path, ValueId input, std::int64_t dim, std::int64_t heads,
                       std::int64_t shift, double drop) {
  const auto p = [&](std::string_view child) { return fmt::format("{}.{}", path, child); };
  ValueId x = add_swin_layer_norm(g, p("norm1"), input, dim);
  x = g.add(LayerKind::WindowAttention, p("attn"), {x},
            nn::WindowAttrs{.dim = dim, .heads = heads, .window = kSwinWindow, .shift = shift});
  x = g.add(LayerKind::StochasticDepth, p("stochastic_depth"), {x}, nn::DropoutAttrs{drop});
  const ValueId attended = g.add(LayerKind::Add, p("add"), {x, input});
  const std::int64_t hidden = dim * kSwinMlpRatio;
  ValueId y = add_swin_layer_norm(g, p("norm2"), attended, dim);
  y = g.add(LayerKind::TokenLinear, p("mlp.0"), {y}, nn::LinearAttrs{dim, hidden, true});
  y = g.add(LayerKind::GELU, p("mlp.1"), {y});
  y = g.add(LayerKind::Dropout, p("mlp.2"), {y}, nn::DropoutAttrs{0.0});
  y = g.add(LayerKind::TokenLinear, p("mlp.3"), {y}, nn::LinearAttrs{hidden, dim, true});
  y = g.add(LayerKind::Dropout, p("mlp.4"), {y}, nn::DropoutAttrs{0.0});
  y = g.add(LayerKind::StochasticDepth, p("stochastic_depth_1"), {y}, nn::DropoutAttrs{drop});
  return g.add(LayerKind::Add, p("add_1"), {attended, y});
}

nn::LayerGraph build_swin(const SwinVariant& v, const nn::ModelOptions& options) {
  nn::LayerGraph g;
  g.arch = std::string(v.name);
  g.num_outputs = options.num_outputs;
  ValueId x = g.add(LayerKind::Conv2d, "features.0.0", {g.input},
                    conv2d_attrs(3, v.embed_dim, kSwinPatch, kSwinPatch, 0, 1, true));
  x = g.add(LayerKind::PatchTokens, "features.0.1", {x});
  x = add_swin_layer_norm(g, "features.0.2", x, v.embed_dim);
  std::int64_t total = 0;
  for (const auto d : v.depths) total += d;
  std::int64_t block = 0, dim = v.embed_dim;
  for (std::size_t stage = 0; stage < v.depths.size(); ++stage) {
    const auto stage_path = fmt::format("features.{}", 2 * stage + 1);
    for (std::int64_t i = 0; i < v.depths[stage]; ++i, ++block) {
      const double drop = v.stochastic_depth * static_cast<double>(block) / static_cast<double>(total - 1);
      x = add_swin_block(g, fmt::format("{}.{}", stage_path, i), x, dim, v.heads[stage],
                         i % 2 == 0 ? 0 : kSwinWindow / 2, drop);
    }
    if (stage + 1 < v.depths.size()) {
      x = g.add(LayerKind::PatchMerging, fmt::format("features.{}", 2 * stage + 2), {x}, nn::PatchMergingAttrs{dim});
      dim *= 2;
    }
  }
  x = add_swin_layer_norm(g, "norm", x, dim);
  x = g.add(LayerKind::TokenMean, "avgpool", {x});
  g.add(LayerKind::Linear, "head", {x}, nn::LinearAttrs{dim, options.num_outputs, true});
  g.set_token_grids();
  return g;
}

}  // namespace

void register_swin(std::vector<Architecture>& out) { register_variants(out, kSwinVariants, "Swin", build_swin); }

}  // namespace pt2onnx::models
