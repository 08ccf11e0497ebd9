// torchvision's Vision Transformers B/16, B/32, L/16, L/32 and H/14
// (torchvision/models/vision_transformer.py, 0.14) as layer graphs with
// torchvision's module paths.
//
// The image is cut into patches by conv_proj, whose [N, D, h, w] output
// becomes the token sequence [N, h * w, D] (PatchTokens). The class token is
// prepended, the position embedding added, and the encoder blocks run:
// LayerNorm, self-attention, residual; LayerNorm, MLP (Linear, GELU, Linear),
// residual. The final LayerNorm's first token feeds heads.head. Dropout is
// the identity in eval.
//
// The position embedding is sized for the image the model was trained at:
// torchvision builds it from image_size and refuses any other input. The size
// is read from the checkpoint's embedding (ModelOptions::image_size).
#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "models/conv_norm_activation.h"
#include "models/families.h"

namespace pt2onnx::models {
namespace {

using nn::LayerKind;
using nn::ValueId;

constexpr double kViTLayerNormEps = 1e-6;
constexpr std::int64_t kViTDefaultImageSize = 224;

struct ViTVariant {
  std::string_view name;
  std::string_view display;
  std::int64_t patch, layers, heads, hidden, mlp;
};

const std::array<ViTVariant, 5> kViTVariants{{
    {"vit_b_16", "ViT-B/16", 16, 12, 12, 768, 3072},
    {"vit_b_32", "ViT-B/32", 32, 12, 12, 768, 3072},
    {"vit_l_16", "ViT-L/16", 16, 24, 16, 1024, 4096},
    {"vit_l_32", "ViT-L/32", 32, 24, 16, 1024, 4096},
    {"vit_h_14", "ViT-H/14", 14, 32, 16, 1280, 5120},
}};

ValueId add_layer_norm(nn::LayerGraph& g, const std::string& path, ValueId x, std::int64_t dim) {
  return g.add(LayerKind::LayerNorm, path, {x}, nn::LayerNormAttrs{dim, kViTLayerNormEps});
}

// EncoderBlock at `path`.
ValueId add_encoder_block(nn::LayerGraph& g, const ViTVariant& v, const std::string& path, ValueId input) {
  const auto p = [&](std::string_view child) { return fmt::format("{}.{}", path, child); };
  ValueId x = add_layer_norm(g, p("ln_1"), input, v.hidden);
  x = g.add(LayerKind::MultiheadAttention, p("self_attention"), {x}, nn::AttentionAttrs{v.hidden, v.heads});
  x = g.add(LayerKind::Dropout, p("dropout"), {x}, nn::DropoutAttrs{0.0});
  const ValueId attended = g.add(LayerKind::Add, p("add"), {x, input});
  ValueId y = add_layer_norm(g, p("ln_2"), attended, v.hidden);
  y = g.add(LayerKind::TokenLinear, p("mlp.0"), {y}, nn::LinearAttrs{v.hidden, v.mlp, true});
  y = g.add(LayerKind::GELU, p("mlp.1"), {y});
  y = g.add(LayerKind::Dropout, p("mlp.2"), {y}, nn::DropoutAttrs{0.0});
  y = g.add(LayerKind::TokenLinear, p("mlp.3"), {y}, nn::LinearAttrs{v.mlp, v.hidden, true});
  y = g.add(LayerKind::Dropout, p("mlp.4"), {y}, nn::DropoutAttrs{0.0});
  return g.add(LayerKind::Add, p("add_1"), {attended, y});
}

nn::LayerGraph build_vit(const ViTVariant& v, const nn::ModelOptions& options) {
  nn::LayerGraph g;
  g.arch = std::string(v.name);
  g.num_outputs = options.num_outputs;
  g.input_size = options.image_size.value_or(kViTDefaultImageSize);
  const std::int64_t side = g.input_size / v.patch;
  const std::int64_t length = side * side + 1;  // the patches and the class token
  ValueId x = g.add(LayerKind::Conv2d, "conv_proj", {g.input}, conv2d_attrs(3, v.hidden, v.patch, v.patch, 0, 1, true));
  x = g.add(LayerKind::PatchTokens, "patch_tokens", {x});
  x = g.add(LayerKind::ClassToken, "class_token", {x}, nn::TokenAttrs{length, v.hidden});
  x = g.add(LayerKind::PositionEmbedding, "encoder.pos_embedding", {x}, nn::TokenAttrs{length, v.hidden});
  x = g.add(LayerKind::Dropout, "encoder.dropout", {x}, nn::DropoutAttrs{0.0});
  for (std::int64_t i = 0; i < v.layers; ++i) {
    x = add_encoder_block(g, v, fmt::format("encoder.layers.encoder_layer_{}", i), x);
  }
  x = add_layer_norm(g, "encoder.ln", x, v.hidden);
  x = g.add(LayerKind::FirstToken, "class_token_output", {x});
  g.add(LayerKind::Linear, "heads.head", {x}, nn::LinearAttrs{v.hidden, options.num_outputs, true});
  return g;
}

// The image size a ViT checkpoint was trained at: its position embedding is
// [1, (size / patch)^2 + 1, D].
std::optional<std::int64_t> vit_trained_size(const ViTVariant& v, const checkpoint::StateDict& state) {
  const Tensor* pos = state.find("encoder.pos_embedding");
  if (pos == nullptr || pos->rank() != 3 || pos->dim(1) < 2) return std::nullopt;
  const std::int64_t patches = pos->dim(1) - 1;
  const auto side = static_cast<std::int64_t>(std::llround(std::sqrt(static_cast<double>(patches))));
  if (side * side != patches) return std::nullopt;
  return side * v.patch;
}

}  // namespace

void register_vit(std::vector<Architecture>& out) {
  for (const auto& v : kViTVariants) {
    Architecture a{std::string(v.name), std::string(v.display), "ViT",
                   [&v](const nn::ModelOptions& o) { return build_vit(v, o); }};
    a.trained_size = [&v](const checkpoint::StateDict& state) { return vit_trained_size(v, state); };
    out.push_back(std::move(a));
  }
}

}  // namespace pt2onnx::models
