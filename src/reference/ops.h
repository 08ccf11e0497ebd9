// The reference's operators: one plain function per layer kind, float32 NCHW in
// and out, double accumulation, PyTorch eval-mode semantics. Each checks its
// operands' shapes and throws Error(BadInput) naming the mismatch; forward()
// adds the layer's path. The elementwise ones take their first operand by
// value and return it overwritten: a caller done with it moves it in.
#pragma once

#include <vector>

#include "nn/layer_graph.h"
#include "pt2onnx/tensor.h"

namespace pt2onnx::reference {

// torch.nn.functional.conv2d. weight [OC, C / groups, KH, KW]; bias [OC] or null.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor* bias, const nn::Conv2dAttrs& attrs);

// Eval BatchNorm2d: (x - running_mean) / sqrt(running_var + eps) * weight + bias.
// With then_silu, also SiLU of that (rounded to float32 in between, as two layers would).
Tensor batch_norm(Tensor x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, double eps, bool then_silu = false);

// ReLU, ReLU6, SiLU, Sigmoid, Hardswish, Hardsigmoid or GELU, elementwise on any shape.
Tensor activation(nn::LayerKind kind, Tensor x);

// AdaptiveAvgPool2d(1): [N, C, H, W] -> [N, C, 1, 1].
Tensor adaptive_avg_pool_1x1(const Tensor& x);

// AdaptiveAvgPool2d((out_h, out_w)): the mean of each of torch's windows.
Tensor adaptive_avg_pool2d(const Tensor& x, std::int64_t out_h, std::int64_t out_w);

// MaxPool2d (dilation 1, ceil_mode False): padding counts as -inf; NaN propagates.
Tensor max_pool2d(const Tensor& x, const nn::PoolAttrs& attrs);

// AvgPool2d (floor mode): the mean of each window, padded cells counting as zeros.
Tensor avg_pool2d(const Tensor& x, const nn::PoolAttrs& attrs);

// torch.cat(parts, 1) of [N, C_i, H, W] tensors with the same N, H and W.
Tensor concat_channels(const std::vector<const Tensor*>& parts);

// x [N, C, H, W] * scale [N, C, 1, 1].
Tensor mul_channels(Tensor x, const Tensor& scale);

// x [N, C, H, W] * scale[c] + shift[c] (constants, one per channel).
Tensor channel_affine(Tensor x, const std::vector<double>& scale, const std::vector<double>& shift);

// a + b, same shapes.
Tensor add(Tensor a, const Tensor& b);

// torch.flatten(x, start_dim) (end_dim -1).
Tensor flatten(const Tensor& x, std::int64_t start_dim);

// x [N, in] @ weight[out, in]^T + bias[out] (bias may be null).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor* bias);

// nn.Linear on each pixel's channels: [N, in, H, W] -> [N, out, H, W].
Tensor pointwise_linear(const Tensor& x, const Tensor& weight, const Tensor* bias);

// Channels [begin, end) of [N, C, H, W].
Tensor channel_slice(const Tensor& x, std::int64_t begin, std::int64_t end);

// ShuffleNet's channel_shuffle: output channel j * groups + i is input channel
// i * (C / groups) + j.
Tensor channel_shuffle(const Tensor& x, std::int64_t groups);

// LayerNorm over the channels of each pixel of [N, C, H, W] (biased variance),
// then * weight[c] + bias[c].
Tensor layer_norm_channels(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps);

// x [N, C, H, W] * scale [C, 1, 1].
Tensor scale_channels(Tensor x, const Tensor& scale);

// tokens.cpp, the vision transformers' operators on sequences [N, L, D]:

// [N, D, h, w] -> [N, h * w, D]: x.reshape(n, D, h * w).permute(0, 2, 1).
Tensor patch_tokens(const Tensor& x);

// torch.cat([token.expand(N, -1, -1), x], dim=1) with token [1, 1, D].
Tensor prepend_token(const Tensor& x, const Tensor& token);

// x + embedding [1, L, D].
Tensor add_position_embedding(Tensor x, const Tensor& embedding);

// nn.LayerNorm(D) over the last axis of [N, L, D] or [N, D] (biased variance), then * weight + bias.
Tensor layer_norm_tokens(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps);

// nn.Linear on each token: [N, L, in] -> [N, L, out]; bias may be null.
Tensor token_linear(const Tensor& x, const Tensor& weight, const Tensor* bias);

// nn.MultiheadAttention(D, heads, batch_first=True)(x, x, x) in eval: the
// packed input projection, softmax(q k^T / sqrt(D / heads)) v per head, the
// output projection.
Tensor multihead_attention(const Tensor& x, const Tensor& in_weight, const Tensor& in_bias, const Tensor& out_weight,
                           const Tensor& out_bias, std::int64_t heads);

// x[:, 0]: [N, L, D] -> [N, D].
Tensor first_token(const Tensor& x);

// torchvision's shifted_window_attention on the tokens [N, h * w, C] of the
// grid a.grid: padded to whole windows, rolled back by the shift, attention in
// each window with the relative position bias (and the shifted windows' mask
// of -100 between cells from different regions), rolled forward, unpadded.
// The index is the float32 image of torchvision's int64 buffer.
Tensor window_attention(const Tensor& x, const nn::WindowAttrs& a, const Tensor& table, const Tensor& index,
                        const Tensor& qkv_weight, const Tensor& qkv_bias, const Tensor& proj_weight,
                        const Tensor& proj_bias);

// torchvision's PatchMerging on the tokens of the grid a.grid: each 2x2
// neighbourhood's four tokens side by side (an odd side padded with zeros),
// LayerNorm over the 4C, then reduction [2C, 4C] without bias.
Tensor patch_merging(const Tensor& x, const nn::PatchMergingAttrs& a, const Tensor& reduction,
                     const Tensor& norm_weight, const Tensor& norm_bias);

// The mean over the tokens: [N, L, D] -> [N, D].
Tensor token_mean(const Tensor& x);

// MaxViT's WindowPartition (and, for grid groups, SwapAxes): [N, C, H, W] ->
// the tokens [N, H * W, C], group by group; departition is its inverse.
Tensor partition(const Tensor& x, const nn::PartitionAttrs& a);
Tensor departition(const Tensor& x, const nn::PartitionAttrs& a);

// MaxViT's RelativePositionalMultiHeadAttention in each group of a.window^2
// consecutive tokens of [N, L, C]: k scaled by C^-0.5 (the whole width, as
// torchvision scales it), softmax(q k^T + bias) v per head, merge.
Tensor group_attention(const Tensor& x, const nn::WindowAttrs& a, const Tensor& table, const Tensor& index,
                       const Tensor& qkv_weight, const Tensor& qkv_bias, const Tensor& merge_weight,
                       const Tensor& merge_bias);

}  // namespace pt2onnx::reference
