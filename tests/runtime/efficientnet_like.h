// An EfficientNet-B0-like ONNX model as torch.onnx.export writes it (BN kept,
// SiLU as Sigmoid + Mul, squeeze-excitation, residual Add, the seed's head),
// at B0's real shapes: the 224x224 stem, the first block of each resolution
// (112, 56, 28, 14, 7) with its kernel size, residual blocks at 28 and 7,
// the 1280-channel head and a 2-output Gemm. Random weights scaled by fan-in
// (He uniform), so activations stay of order one through every block.
#pragma once

#include <cmath>
#include <string>

#include "runtime/test_model.h"

namespace pt2onnx::testing {

inline ModelBuilder efficientnet_like_model() {
  ModelBuilder mb;
  // The pooled features are a second output, so that 1280 numbers are compared, not only 2.
  mb.input("image", {-1, 3, 224, 224}).output("logits").output("head_pool");
  std::uint32_t seed = 5000;
  int id = 0;
  auto fresh = [&](const std::string& base) { return base + std::to_string(id++); };
  auto weight = [&](const std::string& name, std::vector<std::int64_t> dims, float lo, float hi) {
    mb.initializer(name, dims, random_values(static_cast<std::size_t>(numel(dims)), seed++, lo, hi));
  };
  auto conv_bn = [&](const std::string& in, std::int64_t cin, std::int64_t cout, std::int64_t k, std::int64_t stride,
                     std::int64_t group) {
    const auto w = fresh("w");
    const auto per_group = cin / group;
    const auto fan_in = static_cast<float>(per_group * k * k);
    const float bound = std::sqrt(6.0f / fan_in);
    weight(w, {cout, cin / group, k, k}, -bound, bound);
    const auto c = fresh("conv");
    auto& n = mb.node("Conv", {in, w}, {c});
    const auto pad = k / 2;
    set_ints(n, "pads", {pad, pad, pad, pad});
    set_ints(n, "strides", {stride, stride});
    set_ints(n, "kernel_shape", {k, k});
    set_int(n, "group", group);
    const auto bn = fresh("bn");
    weight(bn + ".scale", {cout}, 0.7f, 1.3f);
    weight(bn + ".bias", {cout}, -0.1f, 0.1f);
    weight(bn + ".mean", {cout}, -0.1f, 0.1f);
    weight(bn + ".var", {cout}, 0.8f, 1.2f);
    set_float(mb.node("BatchNormalization", {c, bn + ".scale", bn + ".bias", bn + ".mean", bn + ".var"}, {bn}),
              "epsilon", 1e-5f);
    return bn;
  };
  auto silu = [&](const std::string& in) {
    const auto s = fresh("sig");
    mb.node("Sigmoid", {in}, {s});
    const auto m = fresh("silu");
    mb.node("Mul", {in, s}, {m});
    return m;
  };
  auto squeeze_excite = [&](const std::string& in, std::int64_t c, std::int64_t squeeze) {
    const auto g = fresh("pool");
    mb.node("GlobalAveragePool", {in}, {g});
    auto conv1x1 = [&](const std::string& x, std::int64_t cin, std::int64_t cout) {
      const auto w = fresh("sew");
      const float bound = std::sqrt(6.0f / static_cast<float>(cin));
      weight(w, {cout, cin, 1, 1}, -bound, bound);
      weight(w + ".b", {cout}, -0.1f, 0.1f);
      const auto y = fresh("se");
      mb.node("Conv", {x, w, w + ".b"}, {y});
      return y;
    };
    const auto reduced = silu(conv1x1(g, c, squeeze));
    const auto gate = fresh("gate");
    mb.node("Sigmoid", {conv1x1(reduced, squeeze, c)}, {gate});
    const auto scaled = fresh("scaled");
    mb.node("Mul", {in, gate}, {scaled});
    return scaled;
  };
  auto mbconv = [&](const std::string& in, std::int64_t cin, std::int64_t cout, std::int64_t expand, std::int64_t k,
                    std::int64_t stride) {
    auto x = in;
    const auto hidden = cin * expand;
    if (expand != 1) x = silu(conv_bn(x, cin, hidden, 1, 1, 1));
    x = silu(conv_bn(x, hidden, hidden, k, stride, hidden));
    x = squeeze_excite(x, hidden, std::max<std::int64_t>(1, cin / 4));
    x = conv_bn(x, hidden, cout, 1, 1, 1);
    if (stride == 1 && cin == cout) {
      const auto sum = fresh("add");
      mb.node("Add", {x, in}, {sum});
      x = sum;
    }
    return x;
  };
  auto x = silu(conv_bn("image", 3, 32, 3, 2, 1));  // 112
  x = mbconv(x, 32, 16, 1, 3, 1);
  x = mbconv(x, 16, 24, 6, 3, 2);  // 56
  x = mbconv(x, 24, 40, 6, 5, 2);  // 28
  x = mbconv(x, 40, 40, 6, 5, 1);  // residual
  x = mbconv(x, 40, 80, 6, 3, 2);  // 14
  x = mbconv(x, 80, 112, 6, 5, 1);
  x = mbconv(x, 112, 192, 6, 5, 2);  // 7
  x = mbconv(x, 192, 192, 6, 5, 1);  // residual
  x = mbconv(x, 192, 320, 6, 3, 1);
  x = silu(conv_bn(x, 320, 1280, 1, 1, 1));
  mb.node("GlobalAveragePool", {x}, {"head_pool"});
  set_int(mb.node("Flatten", {"head_pool"}, {"flat"}), "axis", 1);
  const float bound = std::sqrt(6.0f / 1280.0f);
  weight("fc", {2, 1280}, -bound, bound);
  weight("fc.bias", {2}, -0.1f, 0.1f);
  set_int(mb.node("Gemm", {"flat", "fc", "fc.bias"}, {"logits"}), "transB", 1);
  return mb;
}

}  // namespace pt2onnx::testing
