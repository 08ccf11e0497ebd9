#include "exporter/layer_lowerings.h"

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx::exporter {

void LoweringTable::add(nn::LayerKind kind, LowerFn fn) {
  if (!table_.emplace(kind, fn).second) {
    throw_error(ErrorKind::Internal, fmt::format("layer kind {} registered twice", nn::layer_kind_name(kind)));
  }
}

LowerFn LoweringTable::find(nn::LayerKind kind) const {
  const auto it = table_.find(kind);
  if (it == table_.end()) {
    throw_error(ErrorKind::Unsupported, fmt::format("no ONNX lowering for layer kind {}", nn::layer_kind_name(kind)));
  }
  return it->second;
}

void register_layer_lowerings(LoweringTable& table) {
  using nn::LayerKind;
  table.add(LayerKind::Conv2d, lower_conv2d);
  table.add(LayerKind::BatchNorm2d, lower_batch_norm2d);
  table.add(LayerKind::ReLU, lower_relu);
  table.add(LayerKind::ReLU6, lower_relu6);
  table.add(LayerKind::SiLU, lower_silu);
  table.add(LayerKind::Sigmoid, lower_sigmoid);
  table.add(LayerKind::Hardswish, lower_hardswish);
  table.add(LayerKind::Hardsigmoid, lower_hardsigmoid);
  table.add(LayerKind::AdaptiveAvgPool2d, lower_adaptive_avg_pool2d);
  table.add(LayerKind::MaxPool2d, lower_max_pool2d);
  table.add(LayerKind::AvgPool2d, lower_avg_pool2d);
  table.add(LayerKind::Concat, lower_concat);
  table.add(LayerKind::Mul, lower_mul);
  table.add(LayerKind::Add, lower_add);
  table.add(LayerKind::Flatten, lower_flatten);
  table.add(LayerKind::Dropout, lower_eval_identity);
  table.add(LayerKind::StochasticDepth, lower_eval_identity);
  table.add(LayerKind::Linear, lower_linear);
  table.add(LayerKind::ChannelAffine, lower_channel_affine);
  table.add(LayerKind::ChannelSlice, lower_channel_slice);
  table.add(LayerKind::ChannelShuffle, lower_channel_shuffle);
  table.add(LayerKind::LayerNorm2d, lower_layer_norm2d);
  table.add(LayerKind::PointwiseLinear, lower_pointwise_linear);
  table.add(LayerKind::GELU, lower_gelu);
  table.add(LayerKind::LayerScale, lower_layer_scale);
}

const LoweringTable& layer_lowerings() {
  static const LoweringTable kTable = [] {
    LoweringTable t;
    register_layer_lowerings(t);
    return t;
  }();
  return kTable;
}

}  // namespace pt2onnx::exporter
