#include "exporter/layer_lowerings.h"

#include <array>

#include "pt2onnx/error.h"

namespace pt2onnx::exporter {

namespace {

struct Lowering {
  nn::LayerKind kind = nn::LayerKind::Count;
  LowerFn lower = nullptr;
};

using nn::LayerKind;

// Every layer kind with its lowering, in LayerKind order.
constexpr std::array kLowerings{
    Lowering{LayerKind::Conv2d, lower_conv2d},
    Lowering{LayerKind::BatchNorm2d, lower_batch_norm2d},
    Lowering{LayerKind::ReLU, lower_relu},
    Lowering{LayerKind::ReLU6, lower_relu6},
    Lowering{LayerKind::SiLU, lower_silu},
    Lowering{LayerKind::Sigmoid, lower_sigmoid},
    Lowering{LayerKind::Hardswish, lower_hardswish},
    Lowering{LayerKind::Hardsigmoid, lower_hardsigmoid},
    Lowering{LayerKind::AdaptiveAvgPool2d, lower_adaptive_avg_pool2d},
    Lowering{LayerKind::MaxPool2d, lower_max_pool2d},
    Lowering{LayerKind::AvgPool2d, lower_avg_pool2d},
    Lowering{LayerKind::Mul, lower_mul},
    Lowering{LayerKind::Add, lower_add},
    Lowering{LayerKind::Concat, lower_concat},
    Lowering{LayerKind::Flatten, lower_flatten},
    Lowering{LayerKind::Dropout, lower_eval_identity},
    Lowering{LayerKind::StochasticDepth, lower_eval_identity},
    Lowering{LayerKind::Linear, lower_linear},
    Lowering{LayerKind::ChannelAffine, lower_channel_affine},
    Lowering{LayerKind::ChannelSlice, lower_channel_slice},
    Lowering{LayerKind::ChannelShuffle, lower_channel_shuffle},
    Lowering{LayerKind::LayerNorm2d, lower_layer_norm2d},
    Lowering{LayerKind::PointwiseLinear, lower_pointwise_linear},
    Lowering{LayerKind::GELU, lower_gelu},
    Lowering{LayerKind::LayerScale, lower_layer_scale},
    Lowering{LayerKind::PatchTokens, lower_patch_tokens},
    Lowering{LayerKind::ClassToken, lower_class_token},
    Lowering{LayerKind::PositionEmbedding, lower_position_embedding},
    Lowering{LayerKind::LayerNorm, lower_layer_norm},
    Lowering{LayerKind::TokenLinear, lower_token_linear},
    Lowering{LayerKind::MultiheadAttention, lower_multihead_attention},
    Lowering{LayerKind::FirstToken, lower_first_token},
    Lowering{LayerKind::WindowAttention, lower_window_attention},
    Lowering{LayerKind::PatchMerging, lower_patch_merging},
    Lowering{LayerKind::TokenMean, lower_token_mean},
    Lowering{LayerKind::Partition, lower_partition},
    Lowering{LayerKind::Departition, lower_departition},
    Lowering{LayerKind::GroupAttention, lower_group_attention},
    Lowering{LayerKind::Tanh, lower_tanh},
};

constexpr bool one_lowering_per_kind_in_order() {
  if (kLowerings.size() != nn::kLayerKindCount) return false;
  for (std::size_t i = 0; i < kLowerings.size(); ++i) {
    if (static_cast<std::size_t>(kLowerings[i].kind) != i || kLowerings[i].lower == nullptr) return false;
  }
  return true;
}
static_assert(one_lowering_per_kind_in_order(), "kLowerings needs one lowering per LayerKind, in its order");

}  // namespace

LowerFn lowering_for(nn::LayerKind kind) {
  const auto i = static_cast<std::size_t>(kind);
  if (i >= kLowerings.size()) throw_error(ErrorKind::Internal, "not a layer kind");
  return kLowerings[i].lower;
}

}  // namespace pt2onnx::exporter
