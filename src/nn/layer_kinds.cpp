// Each layer kind's facts that hold whoever computes it: its name, how many
// inputs it reads, the parameters it expects and the height and width of its
// output. One record per kind, in LayerKind order, checked at compile time.
// The reference's forward (src/reference) and the exporter's lowering
// (src/exporter) keep their own dispatch: verification compares two
// independent computations.
#include <algorithm>
#include <array>
#include <limits>

#include <fmt/format.h>

#include "nn/layer_graph.h"
#include "pt2onnx/error.h"

namespace pt2onnx::nn {
namespace {

using Spatial = std::array<std::int64_t, 2>;
// The parameters and buffers a layer expects, in torch's registration order.
using ParamsRule = std::vector<ParamSpec> (*)(const Layer& layer);
// A layer's output [height, width] for an input of `in`; nullopt once the value is no longer an image.
using SpatialRule = std::optional<Spatial> (*)(const Layer& layer, const Spatial& in);

constexpr std::size_t kAnyCount = std::numeric_limits<std::size_t>::max();

std::optional<Spatial> same_size(const Layer& /*layer*/, const Spatial& in) { return in; }

struct LayerKindDef {
  LayerKind kind = LayerKind::Count;
  std::string_view name;
  std::size_t min_inputs = 1;
  std::size_t max_inputs = 1;   // kAnyCount: no limit
  ParamsRule params = nullptr;  // nullptr: none
  SpatialRule spatial = same_size;
};

// torch's output length of a window of `kernel` at `stride` over `size` cells
// padded by `padding` on each side; in ceil mode the last window may overhang
// the end but never start in the end padding.
std::int64_t sliding_window_count(std::int64_t size, std::int64_t kernel, std::int64_t stride, std::int64_t padding,
                                  std::int64_t dilation, bool ceil_mode) {
  const std::int64_t span = size + 2 * padding - dilation * (kernel - 1) - 1;
  if (span < 0 || stride < 1) return 0;
  if (!ceil_mode) return span / stride + 1;
  std::int64_t out = (span + stride - 1) / stride + 1;
  if ((out - 1) * stride >= size + padding) --out;
  return out;
}

std::vector<ParamSpec> conv2d_params(const Layer& layer) {
  const auto& a = layer.as<Conv2dAttrs>();
  std::vector<ParamSpec> specs{{"weight", {a.out_channels, a.in_channels / a.groups, a.kernel[0], a.kernel[1]}, false}};
  if (a.bias) specs.push_back({"bias", {a.out_channels}, false});
  return specs;
}

std::optional<Spatial> conv2d_spatial(const Layer& layer, const Spatial& in) {
  const auto& a = layer.as<Conv2dAttrs>();
  return Spatial{sliding_window_count(in[0], a.kernel[0], a.stride[0], a.padding[0], a.dilation[0], false),
                 sliding_window_count(in[1], a.kernel[1], a.stride[1], a.padding[1], a.dilation[1], false)};
}

std::vector<ParamSpec> batch_norm2d_params(const Layer& layer) {
  const auto n = layer.as<BatchNormAttrs>().num_features;
  return {{"weight", {n}, false}, {"bias", {n}, false}, {"running_mean", {n}, true}, {"running_var", {n}, true}};
}

std::optional<Spatial> pool2d_spatial(const Layer& layer, const Spatial& in) {
  const auto& a = layer.as<PoolAttrs>();
  return Spatial{sliding_window_count(in[0], a.kernel[0], a.stride[0], a.padding[0], 1, a.ceil_mode),
                 sliding_window_count(in[1], a.kernel[1], a.stride[1], a.padding[1], 1, a.ceil_mode)};
}

std::optional<Spatial> adaptive_pool2d_spatial(const Layer& layer, const Spatial& /*in*/) {
  const auto a = layer.adaptive_output();
  return Spatial{a.output[0], a.output[1]};
}

std::optional<Spatial> no_longer_an_image(const Layer& /*layer*/, const Spatial& /*in*/) { return std::nullopt; }

std::vector<ParamSpec> linear_params(const Layer& layer) {
  const auto& a = layer.as<LinearAttrs>();
  std::vector<ParamSpec> specs{{"weight", {a.out_features, a.in_features}, false}};
  if (a.bias) specs.push_back({"bias", {a.out_features}, false});
  return specs;
}

// LayerNorm2d's per-pixel and LayerNorm's per-token normalisation alike.
std::vector<ParamSpec> layer_norm_params(const Layer& layer) {
  const auto n = layer.as<LayerNormAttrs>().channels;
  return {{"weight", {n}, false}, {"bias", {n}, false}};
}

std::vector<ParamSpec> layer_scale_params(const Layer& layer) {
  return {{"layer_scale", {layer.as<LayerScaleAttrs>().channels, 1, 1}, false}};
}

std::vector<ParamSpec> class_token_params(const Layer& layer) {
  return {{"", {1, 1, layer.as<TokenAttrs>().dim}, false}};
}

std::vector<ParamSpec> position_embedding_params(const Layer& layer) {
  const auto& a = layer.as<TokenAttrs>();
  return {{"", {1, a.length, a.dim}, false}};
}

// nn.MultiheadAttention with equal query, key and value widths keeps the three
// input projections in one packed weight, q's rows first.
std::vector<ParamSpec> attention_params(const Layer& layer) {
  const auto d = layer.as<AttentionAttrs>().dim;
  return {{"in_proj_weight", {3 * d, d}, false},
          {"in_proj_bias", {3 * d}, false},
          {"out_proj.weight", {d, d}, false},
          {"out_proj.bias", {d}, false}};
}

// Swin's attention registers its own parameter and buffer before its two
// Linear children: the bias table, the index into it, then qkv and proj.
std::vector<ParamSpec> window_attention_params(const Layer& layer) {
  const auto& a = layer.as<WindowAttrs>();
  const std::int64_t span = 2 * a.window - 1, tokens = a.window * a.window;
  return {{"relative_position_bias_table", {span * span, a.heads}, false},
          {"relative_position_index", {tokens * tokens}, true, true},
          {"qkv.weight", {3 * a.dim, a.dim}, false},
          {"qkv.bias", {3 * a.dim}, false},
          {"proj.weight", {a.dim, a.dim}, false},
          {"proj.bias", {a.dim}, false}};
}

// MaxViT's RelativePositionalMultiHeadAttention: its own table and [T, T]
// index, then to_qkv and merge.
std::vector<ParamSpec> group_attention_params(const Layer& layer) {
  const auto& a = layer.as<WindowAttrs>();
  const std::int64_t span = 2 * a.window - 1, tokens = a.window * a.window;
  return {{"relative_position_bias_table", {span * span, a.heads}, false},
          {"relative_position_index", {tokens, tokens}, true, true},
          {"to_qkv.weight", {3 * a.dim, a.dim}, false},
          {"to_qkv.bias", {3 * a.dim}, false},
          {"merge.weight", {a.dim, a.dim}, false},
          {"merge.bias", {a.dim}, false}};
}

// PatchMerging registers reduction before norm.
std::vector<ParamSpec> patch_merging_params(const Layer& layer) {
  const auto c = layer.as<PatchMergingAttrs>().dim;
  return {{"reduction.weight", {2 * c, 4 * c}, false}, {"norm.weight", {4 * c}, false}, {"norm.bias", {4 * c}, false}};
}

// torchvision pads an odd side by one before taking every second token.
std::optional<Spatial> patch_merging_spatial(const Layer& /*layer*/, const Spatial& in) {
  return Spatial{(in[0] + 1) / 2, (in[1] + 1) / 2};
}

constexpr std::array kLayerKinds{
    LayerKindDef{.kind = LayerKind::Conv2d, .name = "Conv2d", .params = conv2d_params, .spatial = conv2d_spatial},
    LayerKindDef{.kind = LayerKind::BatchNorm2d, .name = "BatchNorm2d", .params = batch_norm2d_params},
    LayerKindDef{.kind = LayerKind::ReLU, .name = "ReLU"},
    LayerKindDef{.kind = LayerKind::ReLU6, .name = "ReLU6"},
    LayerKindDef{.kind = LayerKind::SiLU, .name = "SiLU"},
    LayerKindDef{.kind = LayerKind::Sigmoid, .name = "Sigmoid"},
    LayerKindDef{.kind = LayerKind::Hardswish, .name = "Hardswish"},
    LayerKindDef{.kind = LayerKind::Hardsigmoid, .name = "Hardsigmoid"},
    LayerKindDef{.kind = LayerKind::AdaptiveAvgPool2d, .name = "AdaptiveAvgPool2d", .spatial = adaptive_pool2d_spatial},
    LayerKindDef{.kind = LayerKind::MaxPool2d, .name = "MaxPool2d", .spatial = pool2d_spatial},
    LayerKindDef{.kind = LayerKind::AvgPool2d, .name = "AvgPool2d", .spatial = pool2d_spatial},
    LayerKindDef{.kind = LayerKind::Mul, .name = "Mul", .min_inputs = 2, .max_inputs = 2},
    LayerKindDef{.kind = LayerKind::Add, .name = "Add", .min_inputs = 2, .max_inputs = 2},
    LayerKindDef{.kind = LayerKind::Concat, .name = "Concat", .max_inputs = kAnyCount},
    LayerKindDef{.kind = LayerKind::Flatten, .name = "Flatten", .spatial = no_longer_an_image},
    LayerKindDef{.kind = LayerKind::Dropout, .name = "Dropout"},
    LayerKindDef{.kind = LayerKind::StochasticDepth, .name = "StochasticDepth"},
    LayerKindDef{.kind = LayerKind::Linear, .name = "Linear", .params = linear_params, .spatial = no_longer_an_image},
    LayerKindDef{.kind = LayerKind::ChannelAffine, .name = "ChannelAffine"},
    LayerKindDef{.kind = LayerKind::ChannelSlice, .name = "ChannelSlice"},
    LayerKindDef{.kind = LayerKind::ChannelShuffle, .name = "ChannelShuffle"},
    LayerKindDef{.kind = LayerKind::LayerNorm2d, .name = "LayerNorm2d", .params = layer_norm_params},
    LayerKindDef{.kind = LayerKind::PointwiseLinear, .name = "PointwiseLinear", .params = linear_params},
    LayerKindDef{.kind = LayerKind::GELU, .name = "GELU"},
    LayerKindDef{.kind = LayerKind::LayerScale, .name = "LayerScale", .params = layer_scale_params},
    // The patches' tokens are still a grid (Swin's attention windows and merging read it) until a class token joins.
    LayerKindDef{.kind = LayerKind::PatchTokens, .name = "PatchTokens"},
    LayerKindDef{.kind = LayerKind::ClassToken,
                 .name = "ClassToken",
                 .params = class_token_params,
                 .spatial = no_longer_an_image},
    LayerKindDef{
        .kind = LayerKind::PositionEmbedding, .name = "PositionEmbedding", .params = position_embedding_params},
    LayerKindDef{.kind = LayerKind::LayerNorm, .name = "LayerNorm", .params = layer_norm_params},
    LayerKindDef{.kind = LayerKind::TokenLinear, .name = "TokenLinear", .params = linear_params},
    LayerKindDef{.kind = LayerKind::MultiheadAttention, .name = "MultiheadAttention", .params = attention_params},
    LayerKindDef{.kind = LayerKind::FirstToken, .name = "FirstToken", .spatial = no_longer_an_image},
    LayerKindDef{.kind = LayerKind::WindowAttention, .name = "WindowAttention", .params = window_attention_params},
    LayerKindDef{.kind = LayerKind::PatchMerging,
                 .name = "PatchMerging",
                 .params = patch_merging_params,
                 .spatial = patch_merging_spatial},
    LayerKindDef{.kind = LayerKind::TokenMean, .name = "TokenMean", .spatial = no_longer_an_image},
    LayerKindDef{.kind = LayerKind::Partition, .name = "Partition"},
    LayerKindDef{.kind = LayerKind::Departition, .name = "Departition"},
    LayerKindDef{.kind = LayerKind::GroupAttention, .name = "GroupAttention", .params = group_attention_params},
    LayerKindDef{.kind = LayerKind::Tanh, .name = "Tanh"},
};

constexpr std::size_t index_of(LayerKind kind) { return static_cast<std::size_t>(kind); }

constexpr bool one_record_per_kind_in_order() {
  if (kLayerKinds.size() != kLayerKindCount) return false;
  for (std::size_t i = 0; i < kLayerKinds.size(); ++i) {
    const auto& d = kLayerKinds[i];
    if (index_of(d.kind) != i || d.name.empty() || d.min_inputs > d.max_inputs || !d.spatial) return false;
  }
  return true;
}
static_assert(one_record_per_kind_in_order(), "kLayerKinds needs one complete record per LayerKind, in its order");

const LayerKindDef& def_of(LayerKind kind) {
  const auto i = index_of(kind);
  if (i >= kLayerKinds.size()) throw_error(ErrorKind::Internal, "not a layer kind");
  return kLayerKinds[i];
}

}  // namespace

std::string_view layer_kind_name(LayerKind kind) {
  const auto i = index_of(kind);
  return i < kLayerKinds.size() ? kLayerKinds[i].name : "?";
}

bool input_count_fits(LayerKind kind, std::size_t count) {
  const auto& d = def_of(kind);
  return count >= d.min_inputs && count <= d.max_inputs;
}

std::string expected_input_count(LayerKind kind) {
  const auto& d = def_of(kind);
  if (d.max_inputs == kAnyCount) return fmt::format("{} or more", d.min_inputs);
  if (d.min_inputs == d.max_inputs) return fmt::format("{}", d.min_inputs);
  return fmt::format("{} to {}", d.min_inputs, d.max_inputs);
}

std::vector<ParamSpec> Layer::expected_params() const {
  const auto rule = def_of(kind).params;
  return rule ? rule(*this) : std::vector<ParamSpec>{};
}

std::optional<std::array<std::int64_t, 2>> Layer::output_spatial(const std::array<std::int64_t, 2>& in) const {
  return def_of(kind).spatial(*this, in);
}

}  // namespace pt2onnx::nn
