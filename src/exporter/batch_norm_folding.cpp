#include "exporter/batch_norm_folding.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx::exporter {

FoldedConv fold_batch_norm(const Tensor& conv_weight, const Tensor* conv_bias, const BatchNormParams& bn) {
  if (conv_weight.rank() == 0) throw_error(ErrorKind::ExportFailed, "cannot fold BatchNorm into a scalar weight");
  const auto channels = conv_weight.dim(0);
  for (const Tensor* t : {&bn.weight, &bn.bias, &bn.running_mean, &bn.running_var, conv_bias}) {
    if (t != nullptr && t->shape() != Shape{channels}) {
      throw_error(ErrorKind::ExportFailed,
                  fmt::format("cannot fold BatchNorm of shape {} into a convolution of {} channels",
                              shape_to_string(t->shape()), channels));
    }
  }
  const auto w = conv_weight.f32();
  const auto gamma = bn.weight.f32();
  const auto beta = bn.bias.f32();
  const auto mean = bn.running_mean.f32();
  const auto var = bn.running_var.f32();

  FoldedConv out{Tensor(DType::Float32, conv_weight.shape()), Tensor(DType::Float32, {channels})};
  auto w_out = out.weight.f32();
  auto b_out = out.bias.f32();
  const auto per_channel = static_cast<std::size_t>(conv_weight.numel() / std::max<std::int64_t>(channels, 1));
  for (std::size_t c = 0; c < static_cast<std::size_t>(channels); ++c) {
    const double denom = static_cast<double>(var[c]) + bn.eps;
    if (!(denom > 0.0)) {
      throw_error(ErrorKind::ExportFailed,
                  fmt::format("BatchNorm channel {}: running_var + eps = {} is not positive", c, denom));
    }
    const double scale = static_cast<double>(gamma[c]) / std::sqrt(denom);
    const double b = conv_bias != nullptr ? static_cast<double>(conv_bias->f32()[c]) : 0.0;
    b_out[c] = static_cast<float>((b - static_cast<double>(mean[c])) * scale + static_cast<double>(beta[c]));
    for (std::size_t k = c * per_channel; k < (c + 1) * per_channel; ++k) {
      w_out[k] = static_cast<float>(static_cast<double>(w[k]) * scale);
    }
  }
  return out;
}

}  // namespace pt2onnx::exporter
