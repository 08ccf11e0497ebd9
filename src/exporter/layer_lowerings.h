// One lowering per layer kind: each emits the ONNX nodes and initializers of
// one layer, named after its torchvision module path. Which function lowers
// which kind is decided in one place, the table in layer_lowerings.cpp, which
// the build checks to hold one lowering per LayerKind.
#pragma once

#include "exporter/lowering_context.h"
#include "nn/layer_graph.h"

namespace pt2onnx::exporter {

using LowerFn = void (*)(const nn::Layer& layer, LoweringContext& ctx);

// The lowering of `kind`; Error(Internal) for a value that is no layer kind.
LowerFn lowering_for(nn::LayerKind kind);

// conv_lowering.cpp
void lower_conv2d(const nn::Layer& layer, LoweringContext& ctx);
void lower_batch_norm2d(const nn::Layer& layer, LoweringContext& ctx);  // only when not folded
// activation_lowering.cpp
void lower_relu(const nn::Layer& layer, LoweringContext& ctx);
void lower_relu6(const nn::Layer& layer, LoweringContext& ctx);
void lower_silu(const nn::Layer& layer, LoweringContext& ctx);
void lower_sigmoid(const nn::Layer& layer, LoweringContext& ctx);
void lower_hardswish(const nn::Layer& layer, LoweringContext& ctx);
void lower_hardsigmoid(const nn::Layer& layer, LoweringContext& ctx);
void lower_tanh(const nn::Layer& layer, LoweringContext& ctx);
// structural_lowering.cpp
void lower_adaptive_avg_pool2d(const nn::Layer& layer, LoweringContext& ctx);
void lower_max_pool2d(const nn::Layer& layer, LoweringContext& ctx);
void lower_avg_pool2d(const nn::Layer& layer, LoweringContext& ctx);
void lower_concat(const nn::Layer& layer, LoweringContext& ctx);
void lower_mul(const nn::Layer& layer, LoweringContext& ctx);
void lower_channel_affine(const nn::Layer& layer, LoweringContext& ctx);
void lower_channel_slice(const nn::Layer& layer, LoweringContext& ctx);
void lower_channel_shuffle(const nn::Layer& layer, LoweringContext& ctx);
void lower_layer_norm2d(const nn::Layer& layer, LoweringContext& ctx);
void lower_pointwise_linear(const nn::Layer& layer, LoweringContext& ctx);
void lower_layer_scale(const nn::Layer& layer, LoweringContext& ctx);
void lower_gelu(const nn::Layer& layer, LoweringContext& ctx);
void lower_add(const nn::Layer& layer, LoweringContext& ctx);
void lower_flatten(const nn::Layer& layer, LoweringContext& ctx);
void lower_linear(const nn::Layer& layer, LoweringContext& ctx);
// transformer_lowering.cpp
void lower_patch_tokens(const nn::Layer& layer, LoweringContext& ctx);
void lower_class_token(const nn::Layer& layer, LoweringContext& ctx);
void lower_position_embedding(const nn::Layer& layer, LoweringContext& ctx);
void lower_layer_norm(const nn::Layer& layer, LoweringContext& ctx);
void lower_token_linear(const nn::Layer& layer, LoweringContext& ctx);
void lower_multihead_attention(const nn::Layer& layer, LoweringContext& ctx);
void lower_first_token(const nn::Layer& layer, LoweringContext& ctx);
void lower_window_attention(const nn::Layer& layer, LoweringContext& ctx);
void lower_patch_merging(const nn::Layer& layer, LoweringContext& ctx);
void lower_token_mean(const nn::Layer& layer, LoweringContext& ctx);
void lower_partition(const nn::Layer& layer, LoweringContext& ctx);
void lower_departition(const nn::Layer& layer, LoweringContext& ctx);
void lower_group_attention(const nn::Layer& layer, LoweringContext& ctx);
// LayerNormalization over the last axis of `input` with the layer's weight
// and bias (param_prefix + "weight", "bias"), written to `output`;
// Error(Unsupported) below opset 17.
void add_layer_normalization(const nn::Layer& layer, LoweringContext& ctx, const std::string& input,
                             const std::string& output, const std::string& param_prefix = "");
// Dropout and StochasticDepth: the plan aliases their output to their input.
void lower_eval_identity(const nn::Layer& layer, LoweringContext& ctx);

}  // namespace pt2onnx::exporter
