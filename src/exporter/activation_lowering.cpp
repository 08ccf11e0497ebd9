// Elementwise activations. Where ONNX has no operator of the same meaning in
// the target opset, the layer becomes two nodes: the helper is named
// "<path>/<Op>" and the node producing the layer's output keeps the bare path.
#include <cmath>
#include "exporter/layer_lowerings.h"

namespace pt2onnx::exporter {
namespace {

// torch's hardsigmoid is relu6(x + 3) / 6 = clip(x / 6 + 1/2, 0, 1): ONNX
// HardSigmoid with alpha 1/6 and beta 1/2 (ONNX's default alpha is 0.2).
constexpr float kHardAlpha = 1.0f / 6.0f;
constexpr float kHardBeta = 0.5f;
constexpr int kFirstOpsetWithHardSwish = 14;

void unary(std::string_view op, const nn::Layer& layer, LoweringContext& ctx) {
  ctx.add_node(op, layer.path, {ctx.input_name(layer, 0)}, {ctx.output_name(layer)});
}

}  // namespace

void lower_relu(const nn::Layer& layer, LoweringContext& ctx) { unary("Relu", layer, ctx); }
// torch's ReLU6 is hardtanh(x, 0, 6): Clip, whose bounds are scalar inputs
// in every opset the exporter writes (13 on), as torch.onnx.export writes them.
void lower_relu6(const nn::Layer& layer, LoweringContext& ctx) {
  constexpr float kLow = 0.0f, kHigh = 6.0f;
  const auto low = ctx.add_initializer(layer.path + "/min", Shape{}, std::span<const float>(&kLow, 1));
  const auto high = ctx.add_initializer(layer.path + "/max", Shape{}, std::span<const float>(&kHigh, 1));
  ctx.add_node("Clip", layer.path, {ctx.input_name(layer, 0), low, high}, {ctx.output_name(layer)});
}

void lower_sigmoid(const nn::Layer& layer, LoweringContext& ctx) { unary("Sigmoid", layer, ctx); }
void lower_tanh(const nn::Layer& layer, LoweringContext& ctx) { unary("Tanh", layer, ctx); }

// Opsets up to 17 have no SiLU: x * sigmoid(x), as torch.onnx exports it.
void lower_silu(const nn::Layer& layer, LoweringContext& ctx) {
  const auto& x = ctx.input_name(layer, 0);
  const auto gate = layer.path + "/sigmoid";
  ctx.add_node("Sigmoid", layer.path + "/Sigmoid", {x}, {gate});
  ctx.add_node("Mul", layer.path, {x, gate}, {ctx.output_name(layer)});
}

// Opsets up to 17 have no Gelu: x * 0.5 * (1 + erf(x / sqrt(2))), in the order
// torch.onnx exports it (Div, Erf, Add, Mul, Mul), which the engine fuses back.
void lower_gelu(const nn::Layer& layer, LoweringContext& ctx) {
  const auto& x = ctx.input_name(layer, 0);
  const float sqrt2 = std::sqrt(2.0f), one = 1.0f, half = 0.5f;
  const auto scalar = [&](const char* name, const float& v) {
    return ctx.add_initializer(layer.path + name, Shape{}, std::span<const float>(&v, 1));
  };
  const auto p = [&](const char* step) { return layer.path + step; };
  ctx.add_node("Div", p("/Div"), {x, scalar("/sqrt2", sqrt2)}, {p("/scaled")});
  ctx.add_node("Erf", p("/Erf"), {p("/scaled")}, {p("/erf")});
  ctx.add_node("Add", p("/Add"), {p("/erf"), scalar("/one", one)}, {p("/erf_plus_one")});
  ctx.add_node("Mul", p("/Mul"), {x, p("/erf_plus_one")}, {p("/product")});
  ctx.add_node("Mul", layer.path, {p("/product"), scalar("/half", half)}, {ctx.output_name(layer)});
}

void lower_hardsigmoid(const nn::Layer& layer, LoweringContext& ctx) {
  auto& node = ctx.add_node("HardSigmoid", layer.path, {ctx.input_name(layer, 0)}, {ctx.output_name(layer)});
  set_float_attr(node, "alpha", kHardAlpha);
  set_float_attr(node, "beta", kHardBeta);
}

void lower_hardswish(const nn::Layer& layer, LoweringContext& ctx) {
  const auto& x = ctx.input_name(layer, 0);
  if (ctx.opset() >= kFirstOpsetWithHardSwish) {
    ctx.add_node("HardSwish", layer.path, {x}, {ctx.output_name(layer)});
    return;
  }
  const auto gate = layer.path + "/hardsigmoid";
  auto& hs = ctx.add_node("HardSigmoid", layer.path + "/HardSigmoid", {x}, {gate});
  set_float_attr(hs, "alpha", kHardAlpha);
  set_float_attr(hs, "beta", kHardBeta);
  ctx.add_node("Mul", layer.path, {x, gate}, {ctx.output_name(layer)});
}

}  // namespace pt2onnx::exporter
