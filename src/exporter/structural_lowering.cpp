// Pools, the two-input elementwise ops, Flatten, Linear, and the eval-mode identities.
#include <fmt/format.h>

#include "exporter/layer_lowerings.h"
#include "pt2onnx/error.h"

namespace pt2onnx::exporter {

// An adaptive average pool to 1x1 is a plain global mean. To a larger size
// it is, at the fixed input size of an export, an AveragePool whose windows
// tile the input exactly (kernel = stride = input / output); sizes that do not
// divide give overlapping windows of varying size, which ONNX cannot express.
void lower_adaptive_avg_pool2d(const nn::Layer& layer, LoweringContext& ctx) {
  const auto out = layer.adaptive_output();
  if (out.output[0] == 1 && out.output[1] == 1) {
    ctx.add_node("GlobalAveragePool", layer.path, {ctx.input_name(layer, 0)}, {ctx.output_name(layer)});
    return;
  }
  const auto in = ctx.graph().spatial_sizes().at(static_cast<std::size_t>(layer.inputs.at(0)));
  if (!in || (*in)[0] % out.output[0] != 0 || (*in)[1] % out.output[1] != 0) {
    throw_error(ErrorKind::Unsupported,
                fmt::format("layer {}: AdaptiveAvgPool2d to {}x{} from {} is not exported (the input size must be a "
                            "multiple of the output size)",
                            layer.path, out.output[0], out.output[1],
                            in ? fmt::format("{}x{}", (*in)[0], (*in)[1]) : std::string("a non-image")));
  }
  const std::int64_t kh = (*in)[0] / out.output[0], kw = (*in)[1] / out.output[1];
  auto& node = ctx.add_node("AveragePool", layer.path, {ctx.input_name(layer, 0)}, {ctx.output_name(layer)});
  set_ints_attr(node, "kernel_shape", {kh, kw});
  set_ints_attr(node, "strides", {kh, kw});
}

void lower_max_pool2d(const nn::Layer& layer, LoweringContext& ctx) {
  const auto& a = layer.as<nn::PoolAttrs>();
  auto& node = ctx.add_node("MaxPool", layer.path, {ctx.input_name(layer, 0)}, {ctx.output_name(layer)});
  set_ints_attr(node, "kernel_shape", {a.kernel[0], a.kernel[1]});
  set_ints_attr(node, "strides", {a.stride[0], a.stride[1]});
  // torch pads max pooling with -inf; ONNX MaxPool ignores padded cells: the same.
  set_ints_attr(node, "pads", {a.padding[0], a.padding[1], a.padding[0], a.padding[1]});
  // ONNX's ceil_mode (opset 10 on) follows the same rule as torch's.
  if (a.ceil_mode) set_int_attr(node, "ceil_mode", 1);
}

void lower_avg_pool2d(const nn::Layer& layer, LoweringContext& ctx) {
  const auto& a = layer.as<nn::PoolAttrs>();
  if (a.ceil_mode) {
    throw_error(ErrorKind::Unsupported, fmt::format("layer {}: AvgPool2d with ceil_mode is not exported", layer.path));
  }
  auto& node = ctx.add_node("AveragePool", layer.path, {ctx.input_name(layer, 0)}, {ctx.output_name(layer)});
  set_ints_attr(node, "kernel_shape", {a.kernel[0], a.kernel[1]});
  set_ints_attr(node, "strides", {a.stride[0], a.stride[1]});
  set_ints_attr(node, "pads", {a.padding[0], a.padding[1], a.padding[0], a.padding[1]});
  // torch's AvgPool2d counts padded cells in the divisor; ONNX's default does not.
  if (a.padding[0] != 0 || a.padding[1] != 0) set_int_attr(node, "count_include_pad", 1);
}

void lower_concat(const nn::Layer& layer, LoweringContext& ctx) {
  std::vector<std::string> inputs;
  for (std::size_t i = 0; i < layer.inputs.size(); ++i) inputs.push_back(ctx.input_name(layer, i));
  auto& node = ctx.add_node("Concat", layer.path, std::move(inputs), {ctx.output_name(layer)});
  set_int_attr(node, "axis", 1);
}

void lower_mul(const nn::Layer& layer, LoweringContext& ctx) {
  ctx.add_node("Mul", layer.path, {ctx.input_name(layer, 0), ctx.input_name(layer, 1)}, {ctx.output_name(layer)});
}

// transform_input's per-channel x * scale + shift: Mul and Add by [1, C, 1, 1]
// constants, the two float32 roundings torch makes.
void lower_channel_affine(const nn::Layer& layer, LoweringContext& ctx) {
  const auto& a = layer.as<nn::ChannelAffineAttrs>();
  const auto as_floats = [](const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); };
  const Shape shape{1, static_cast<std::int64_t>(a.scale.size()), 1, 1};
  const auto scale = ctx.add_initializer(layer.path + ".scale", shape, as_floats(a.scale));
  const auto shift = ctx.add_initializer(layer.path + ".shift",
                                         Shape{1, static_cast<std::int64_t>(a.shift.size()), 1, 1}, as_floats(a.shift));
  const std::string scaled = layer.path + ".scaled";
  ctx.add_node("Mul", layer.path + ".mul", {ctx.input_name(layer, 0), scale}, {scaled});
  ctx.add_node("Add", layer.path + ".add", {scaled, shift}, {ctx.output_name(layer)});
}

// x.chunk's half: a Slice along the channels.
void lower_channel_slice(const nn::Layer& layer, LoweringContext& ctx) {
  const auto& a = layer.as<nn::ChannelSliceAttrs>();
  ctx.add_node(
      "Slice", layer.path,
      {ctx.input_name(layer, 0), ctx.add_int64_initializer(layer.path + ".starts", {a.begin}),
       ctx.add_int64_initializer(layer.path + ".ends", {a.end}), ctx.add_int64_initializer(layer.path + ".axes", {1})},
      {ctx.output_name(layer)});
}

// channel_shuffle as torch writes it: Reshape to [N, g, C/g, H, W] (0 keeps
// the batch), Transpose the two channel axes, Reshape back.
void lower_channel_shuffle(const nn::Layer& layer, LoweringContext& ctx) {
  const auto [groups, channels] = layer.as<nn::ChannelShuffleAttrs>();
  const auto in = ctx.graph().spatial_sizes().at(static_cast<std::size_t>(layer.inputs.at(0)));
  if (!in || channels % groups != 0) {
    throw_error(ErrorKind::ExportFailed,
                fmt::format("layer {}: cannot shuffle {} channels in {} groups", layer.path, channels, groups));
  }
  const auto p = [&](const char* step) { return layer.path + step; };
  ctx.add_node("Reshape", p("/Reshape"),
               {ctx.input_name(layer, 0),
                ctx.add_int64_initializer(p(".grouped"), {0, groups, channels / groups, (*in)[0], (*in)[1]})},
               {p("/grouped")});
  auto& t = ctx.add_node("Transpose", p("/Transpose"), {p("/grouped")}, {p("/transposed")});
  set_ints_attr(t, "perm", {0, 2, 1, 3, 4});
  ctx.add_node("Reshape", layer.path,
               {p("/transposed"), ctx.add_int64_initializer(p(".shape"), {0, channels, (*in)[0], (*in)[1]})},
               {ctx.output_name(layer)});
}

// LayerNorm over channels, as torchvision's LayerNorm2d and CNBlock do it:
// Transpose to channels-last, LayerNormalization over the last axis, back.
void lower_layer_norm2d(const nn::Layer& layer, LoweringContext& ctx) {
  const auto p = [&](const char* step) { return layer.path + step; };
  auto& in = ctx.add_node("Transpose", p("/to_channels_last"), {ctx.input_name(layer, 0)}, {p("/channels_last")});
  set_ints_attr(in, "perm", {0, 2, 3, 1});
  add_layer_normalization(layer, ctx, p("/channels_last"), p("/normalized"));
  auto& out = ctx.add_node("Transpose", p("/to_channels_first"), {p("/normalized")}, {ctx.output_name(layer)});
  set_ints_attr(out, "perm", {0, 3, 1, 2});
}

// nn.Linear on each pixel is a 1x1 Conv with the same weight, [out, in, 1, 1].
void lower_pointwise_linear(const nn::Layer& layer, LoweringContext& ctx) {
  const Tensor& w = ctx.param(layer, "weight");
  std::vector<std::string> inputs{
      ctx.input_name(layer, 0), ctx.add_initializer(layer.path + ".weight", Shape{w.dim(0), w.dim(1), 1, 1}, w.f32())};
  if (layer.as<nn::LinearAttrs>().bias) {
    inputs.push_back(ctx.add_initializer(layer.path + ".bias", ctx.param(layer, "bias")));
  }
  auto& node = ctx.add_node("Conv", layer.path, std::move(inputs), {ctx.output_name(layer)});
  set_ints_attr(node, "kernel_shape", {1, 1});
}

void lower_layer_scale(const nn::Layer& layer, LoweringContext& ctx) {
  ctx.add_node(
      "Mul", layer.path,
      {ctx.input_name(layer, 0), ctx.add_initializer(layer.path + ".layer_scale", ctx.param(layer, "layer_scale"))},
      {ctx.output_name(layer)});
}

void lower_add(const nn::Layer& layer, LoweringContext& ctx) {
  ctx.add_node("Add", layer.path, {ctx.input_name(layer, 0), ctx.input_name(layer, 1)}, {ctx.output_name(layer)});
}

void lower_flatten(const nn::Layer& layer, LoweringContext& ctx) {
  const auto start_dim = layer.as<nn::FlattenAttrs>().start_dim;
  // ONNX Flatten always makes a matrix; torch.flatten(x, k) only does for k = 1
  // (every dim after the batch folded into one), the only case classifiers use.
  if (start_dim != 1) {
    throw_error(
        ErrorKind::Unsupported,
        fmt::format("layer {}: Flatten with start_dim {} (only start_dim 1 is exported)", layer.path, start_dim));
  }
  auto& node = ctx.add_node("Flatten", layer.path, {ctx.input_name(layer, 0)}, {ctx.output_name(layer)});
  set_int_attr(node, "axis", 1);
}

// nn.Linear computes x W^T + b: Gemm with transB, the weight kept as torch stores it.
void lower_linear(const nn::Layer& layer, LoweringContext& ctx) {
  std::vector<std::string> inputs{ctx.input_name(layer, 0),
                                  ctx.add_initializer(layer.path + ".weight", ctx.param(layer, "weight"))};
  if (layer.as<nn::LinearAttrs>().bias) {
    inputs.push_back(ctx.add_initializer(layer.path + ".bias", ctx.param(layer, "bias")));
  }
  auto& node = ctx.add_node("Gemm", layer.path, std::move(inputs), {ctx.output_name(layer)});
  set_int_attr(node, "transB", 1);
}

void lower_eval_identity(const nn::Layer& /*layer*/, LoweringContext& /*ctx*/) {}

}  // namespace pt2onnx::exporter
