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
#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "models/conv_norm_activation.h"
#include "models/families.h"
#include "models/registry.h"
#include "pt2onnx/error.h"

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

// torch's cubic convolution weights (A = -0.75) for the four taps around a
// point t in [0, 1) past the second.
std::array<double, 4> cubic_weights(double t) {
  constexpr double kA = -0.75;
  const auto near = [](double x) { return ((kA + 2.0) * x - (kA + 3.0)) * x * x + 1.0; };         // |x| <= 1
  const auto far = [](double x) { return ((kA * x - 5.0 * kA) * x + 8.0 * kA) * x - 4.0 * kA; };  // 1 < |x| < 2
  return {far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)};
}

// F.interpolate(grid [in, in], size=out, mode="bicubic", align_corners=True):
// separable, taps clamped at the border, columns first as torch sums them.
std::vector<double> bicubic_resize(const std::vector<double>& grid, std::int64_t in, std::int64_t out) {
  const double scale = out > 1 ? static_cast<double>(in - 1) / static_cast<double>(out - 1) : 0.0;
  const auto at = [&](std::int64_t y, std::int64_t x) {
    return grid[static_cast<std::size_t>(std::clamp<std::int64_t>(y, 0, in - 1) * in +
                                         std::clamp<std::int64_t>(x, 0, in - 1))];
  };
  std::vector<double> result(static_cast<std::size_t>(out * out));
  for (std::int64_t oy = 0; oy < out; ++oy) {
    const double ry = scale * static_cast<double>(oy);
    const auto iy = static_cast<std::int64_t>(std::floor(ry));
    const auto wy = cubic_weights(ry - static_cast<double>(iy));
    for (std::int64_t ox = 0; ox < out; ++ox) {
      const double rx = scale * static_cast<double>(ox);
      const auto ix = static_cast<std::int64_t>(std::floor(rx));
      const auto wx = cubic_weights(rx - static_cast<double>(ix));
      double value = 0.0;
      for (std::int64_t j = 0; j < 4; ++j) {
        double row = 0.0;
        for (std::int64_t i = 0; i < 4; ++i) {
          row += wx[static_cast<std::size_t>(i)] * at(iy - 1 + j, ix - 1 + i);
        }
        value += wy[static_cast<std::size_t>(j)] * row;
      }
      result[static_cast<std::size_t>(oy * out + ox)] = value;
    }
  }
  return result;
}

nn::Layer& only_layer(nn::LayerGraph& g, LayerKind kind) {
  const auto it = std::find_if(g.layers.begin(), g.layers.end(), [&](const nn::Layer& l) { return l.kind == kind; });
  if (it == g.layers.end()) {
    throw_error(ErrorKind::Internal, fmt::format("{} has no {} layer", g.arch, nn::layer_kind_name(kind)));
  }
  return *it;
}

}  // namespace

void resize_vit_position_embedding(nn::LayerGraph& graph, std::int64_t size) {
  const std::int64_t patch = only_layer(graph, LayerKind::Conv2d).as<nn::Conv2dAttrs>().kernel[0];
  if (size % patch != 0) {
    throw Error(ErrorKind::Usage, fmt::format("--image-size {}: {} cuts the image into {}x{} patches; the size must be "
                                              "a multiple of {}",
                                              size, display_name(graph.arch), patch, patch, patch));
  }
  nn::Layer& embedding = only_layer(graph, LayerKind::PositionEmbedding);
  auto& attrs = std::get<nn::TokenAttrs>(embedding.attrs);
  const Tensor& old = embedding.params.at("");
  const std::int64_t dim = attrs.dim;
  const std::int64_t in = graph.input_size / patch, out = size / patch;
  Tensor resized(DType::Float32, {1, out * out + 1, dim});
  const auto src = old.f32();
  auto dst = resized.f32();
  std::copy(src.begin(), src.begin() + dim, dst.begin());  // the class token's position stays
  std::vector<double> grid(static_cast<std::size_t>(in * in));
  for (std::int64_t d = 0; d < dim; ++d) {
    for (std::int64_t p = 0; p < in * in; ++p)
      grid[static_cast<std::size_t>(p)] = src[static_cast<std::size_t>((1 + p) * dim + d)];
    const auto values = bicubic_resize(grid, in, out);
    for (std::int64_t p = 0; p < out * out; ++p) {
      dst[static_cast<std::size_t>((1 + p) * dim + d)] = static_cast<float>(values[static_cast<std::size_t>(p)]);
    }
  }
  embedding.params[""] = std::move(resized);
  attrs.length = out * out + 1;
  std::get<nn::TokenAttrs>(only_layer(graph, LayerKind::ClassToken).attrs).length = attrs.length;
}

void register_vit(std::vector<Architecture>& out) {
  for (const auto& v : kViTVariants) {
    Architecture a{std::string(v.name), std::string(v.display), "ViT",
                   [&v](const nn::ModelOptions& o) { return build_vit(v, o); }};
    a.trained_size = [&v](const checkpoint::StateDict& state) { return vit_trained_size(v, state); };
    out.push_back(std::move(a));
  }
}

}  // namespace pt2onnx::models
