// The vision transformers' layers on token sequences [N, L, D], written as
// torch.onnx.export writes them at opset 17: LayerNormalization, MatMul with
// the transposed Linear weight then Add of the bias, attention as MatMul,
// Softmax and MatMul between reshapes that keep the batch dimension (0 in a
// Reshape's shape) dynamic.
#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "exporter/layer_lowerings.h"
#include "pt2onnx/error.h"

namespace pt2onnx::exporter {
namespace {

constexpr int kFirstOpsetWithLayerNormalization = 17;

// torch's Linear weight [out, in] as MatMul's right operand [in, out].
Tensor transposed(const Tensor& w) {
  const std::int64_t rows = w.dim(0), cols = w.dim(1);
  Tensor t(DType::Float32, {cols, rows});
  const auto src = w.f32();
  auto dst = t.f32();
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      dst[static_cast<std::size_t>(c * rows + r)] = src[static_cast<std::size_t>(r * cols + c)];
    }
  }
  return t;
}

// x @ weight^T + bias on the last axis, from `input` to `output`; `prefix`
// names the parameters ("encoder.layers.encoder_layer_0.self_attention.out_proj").
void add_linear(const nn::Layer& layer, LoweringContext& ctx, const std::string& prefix, const std::string& weight,
                const std::string& bias, const std::string& input, const std::string& output) {
  const std::string product = prefix + "/MatMul_output";
  ctx.add_node("MatMul", prefix + "/MatMul",
               {input, ctx.add_initializer(prefix + ".weight_transposed", transposed(ctx.param(layer, weight)))},
               {bias.empty() ? output : product});
  if (bias.empty()) return;
  ctx.add_node("Add", prefix + "/Add", {product, ctx.add_initializer(prefix + ".bias", ctx.param(layer, bias))},
               {output});
}

}  // namespace

void add_layer_normalization(const nn::Layer& layer, LoweringContext& ctx, const std::string& input,
                             const std::string& output) {
  if (ctx.opset() < kFirstOpsetWithLayerNormalization) {
    throw_error(ErrorKind::Unsupported,
                fmt::format("layer {}: LayerNorm needs opset 17 or newer (LayerNormalization); export with --opset 17",
                            layer.path));
  }
  auto& ln = ctx.add_node("LayerNormalization", layer.path,
                          {input, ctx.add_initializer(layer.path + ".weight", ctx.param(layer, "weight")),
                           ctx.add_initializer(layer.path + ".bias", ctx.param(layer, "bias"))},
                          {output});
  set_int_attr(ln, "axis", -1);
  set_float_attr(ln, "epsilon", static_cast<float>(layer.as<nn::LayerNormAttrs>().eps));
}

// x.reshape(n, D, h * w).permute(0, 2, 1)
void lower_patch_tokens(const nn::Layer& layer, LoweringContext& ctx) {
  const auto p = [&](const char* step) { return layer.path + step; };
  ctx.add_node("Reshape", p("/Reshape"), {ctx.input_name(layer, 0), ctx.add_int64_initializer(p(".shape"), {0, 0, -1})},
               {p("/flat")});
  auto& t = ctx.add_node("Transpose", p("/Transpose"), {p("/flat")}, {ctx.output_name(layer)});
  set_ints_attr(t, "perm", {0, 2, 1});
}

// torch.cat([class_token.expand(n, -1, -1), x], dim=1), as a Pad of one
// zero token in front and an Add of [class_token; zeros]: exact (x + 0 is
// x, 0 + t is t) and static but for the batch, which shape inference keeps
// symbolic (an Expand to a shape read at run time would lose it).
void lower_class_token(const nn::Layer& layer, LoweringContext& ctx) {
  const auto p = [&](const char* step) { return layer.path + step; };
  const auto& a = layer.as<nn::TokenAttrs>();
  const Tensor& token = ctx.param(layer, "");
  Tensor rows(DType::Float32, {1, a.length, a.dim});
  std::copy(token.f32().begin(), token.f32().end(), rows.f32().begin());
  ctx.add_node("Pad", p("/Pad"), {ctx.input_name(layer, 0), ctx.add_int64_initializer(p(".pads"), {0, 1, 0, 0, 0, 0})},
               {p("/padded")});
  ctx.add_node("Add", p("/Add"), {p("/padded"), ctx.add_initializer(layer.path + ".value", rows)},
               {ctx.output_name(layer)});
}

void lower_position_embedding(const nn::Layer& layer, LoweringContext& ctx) {
  ctx.add_node("Add", layer.path + "/Add",
               // the parameter is named "<key>.value": the key itself names the layer's output
               {ctx.input_name(layer, 0), ctx.add_initializer(layer.path + ".value", ctx.param(layer, ""))},
               {ctx.output_name(layer)});
}

void lower_layer_norm(const nn::Layer& layer, LoweringContext& ctx) {
  add_layer_normalization(layer, ctx, ctx.input_name(layer, 0), ctx.output_name(layer));
}

void lower_token_linear(const nn::Layer& layer, LoweringContext& ctx) {
  add_linear(layer, ctx, layer.path, "weight", layer.as<nn::LinearAttrs>().bias ? "bias" : "", ctx.input_name(layer, 0),
             ctx.output_name(layer));
}

// Self-attention as torch computes it: one packed projection to q, k and v,
// split into heads [N, H, L, dh]; softmax(q / sqrt(dh) @ k^T) @ v; the heads
// joined back to [N, L, D]; the output projection.
void lower_multihead_attention(const nn::Layer& layer, LoweringContext& ctx) {
  const auto& a = layer.as<nn::AttentionAttrs>();
  if (a.heads < 1 || a.dim % a.heads != 0) {
    throw_error(ErrorKind::ExportFailed,
                fmt::format("layer {}: {} features do not split into {} heads", layer.path, a.dim, a.heads));
  }
  const std::int64_t dh = a.dim / a.heads;
  const auto p = [&](const char* step) { return layer.path + step; };
  add_linear(layer, ctx, p(".in_proj"), "in_proj_weight", "in_proj_bias", ctx.input_name(layer, 0), p("/qkv"));
  ctx.add_node("Reshape", p("/split_heads"),
               {p("/qkv"), ctx.add_int64_initializer(p(".qkv_shape"), {0, -1, 3, a.heads, dh})}, {p("/qkv_heads")});
  auto& by_role = ctx.add_node("Transpose", p("/by_role"), {p("/qkv_heads")}, {p("/qkv_by_role")});
  set_ints_attr(by_role, "perm", {2, 0, 3, 1, 4});  // [3, N, H, L, dh]
  const char* roles[] = {"/q", "/k", "/v"};
  for (std::int64_t r = 0; r < 3; ++r) {
    const std::string role = roles[r];
    auto& g =
        ctx.add_node("Gather", p("/Gather") + role,
                     {p("/qkv_by_role"), ctx.add_int64_scalar(p(".index") + role.substr(1), r)}, {layer.path + role});
    set_int_attr(g, "axis", 0);
  }
  const float scale = std::sqrt(static_cast<float>(dh));
  ctx.add_node("Div", p("/scale_q"),
               {p("/q"), ctx.add_initializer(p(".sqrt_head_dim"), Shape{}, std::span<const float>(&scale, 1))},
               {p("/q_scaled")});
  auto& kt = ctx.add_node("Transpose", p("/k_transposed"), {p("/k")}, {p("/k_t")});
  set_ints_attr(kt, "perm", {0, 1, 3, 2});
  ctx.add_node("MatMul", p("/scores"), {p("/q_scaled"), p("/k_t")}, {p("/scores")});
  auto& sm = ctx.add_node("Softmax", p("/Softmax"), {p("/scores")}, {p("/weights")});
  set_int_attr(sm, "axis", -1);
  ctx.add_node("MatMul", p("/mix"), {p("/weights"), p("/v")}, {p("/mixed")});
  auto& back = ctx.add_node("Transpose", p("/join_heads"), {p("/mixed")}, {p("/mixed_tokens")});
  set_ints_attr(back, "perm", {0, 2, 1, 3});
  ctx.add_node("Reshape", p("/Reshape"),
               {p("/mixed_tokens"), ctx.add_int64_initializer(p(".joined_shape"), {0, -1, a.dim})}, {p("/joined")});
  add_linear(layer, ctx, p(".out_proj"), "out_proj.weight", "out_proj.bias", p("/joined"), ctx.output_name(layer));
}

// x[:, 0]
void lower_first_token(const nn::Layer& layer, LoweringContext& ctx) {
  auto& g =
      ctx.add_node("Gather", layer.path, {ctx.input_name(layer, 0), ctx.add_int64_scalar(layer.path + ".index", 0)},
                   {ctx.output_name(layer)});
  set_int_attr(g, "axis", 1);
}

}  // namespace pt2onnx::exporter
