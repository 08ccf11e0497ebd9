// Conv2d -> Conv (with the following BatchNorm folded in when the plan says so),
// BatchNorm2d -> BatchNormalization when nothing to fold into.
#include <fmt/format.h>

#include "exporter/batch_norm_folding.h"
#include "exporter/layer_lowerings.h"

namespace pt2onnx::exporter {
namespace {

std::vector<std::int64_t> pair(const std::int64_t (&v)[2]) { return {v[0], v[1]}; }

}  // namespace

void lower_conv2d(const nn::Layer& layer, LoweringContext& ctx) {
  const auto& a = layer.as<nn::Conv2dAttrs>();
  const auto& weight = ctx.param(layer, "weight");
  const Tensor* bias = a.bias ? &ctx.param(layer, "bias") : nullptr;

  std::vector<std::string> inputs{ctx.input_name(layer, 0)};
  std::string doc;
  if (const auto* bn = ctx.folded_batch_norm(layer)) {
    const BatchNormParams params{ctx.param(*bn, "weight"), ctx.param(*bn, "bias"), ctx.param(*bn, "running_mean"),
                                 ctx.param(*bn, "running_var"), bn->as<nn::BatchNormAttrs>().eps};
    auto folded = fold_batch_norm(weight, bias, params);
    // The names stay the Conv's: the folded tensors are what that module computes in eval mode.
    inputs.push_back(ctx.add_initializer(layer.path + ".weight", folded.weight));
    inputs.push_back(ctx.add_initializer(layer.path + ".bias", folded.bias));
    doc = fmt::format("Conv2d {} with BatchNorm2d {} folded in", layer.path, bn->path);
  } else {
    inputs.push_back(ctx.add_initializer(layer.path + ".weight", weight));
    if (bias != nullptr) inputs.push_back(ctx.add_initializer(layer.path + ".bias", *bias));
  }

  auto& node = ctx.add_node("Conv", layer.path, std::move(inputs), {ctx.output_name(layer)});
  if (!doc.empty()) node.set_doc_string(doc);
  set_ints_attr(node, "kernel_shape", pair(a.kernel));
  set_ints_attr(node, "strides", pair(a.stride));
  // torch pads symmetrically; ONNX lists begins then ends.
  set_ints_attr(node, "pads", {a.padding[0], a.padding[1], a.padding[0], a.padding[1]});
  set_ints_attr(node, "dilations", pair(a.dilation));
  set_int_attr(node, "group", a.groups);
}

void lower_batch_norm2d(const nn::Layer& layer, LoweringContext& ctx) {
  const auto& a = layer.as<nn::BatchNormAttrs>();
  std::vector<std::string> inputs{ctx.input_name(layer, 0)};
  for (const char* name : {"weight", "bias", "running_mean", "running_var"}) {
    inputs.push_back(ctx.add_initializer(layer.path + "." + name, ctx.param(layer, name)));
  }
  auto& node = ctx.add_node("BatchNormalization", layer.path, std::move(inputs), {ctx.output_name(layer)});
  set_float_attr(node, "epsilon", static_cast<float>(a.eps));
}

}  // namespace pt2onnx::exporter
