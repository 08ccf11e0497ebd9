// Each reference operator on tiny cases worked out by hand.
#include "reference/ops.h"

#include <cmath>
#include <cstring>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/random.h"
#include "pt2onnx/error.h"
#include "reference/exp.h"

namespace pt2onnx::reference {
namespace {

using ::testing::ElementsAreArray;
using ::testing::FloatNear;
using ::testing::HasSubstr;
using ::testing::Pointwise;

Tensor iota(Shape shape, float start = 0.0f) {
  Tensor t(DType::Float32, std::move(shape));
  float v = start;
  for (auto& x : t.f32()) x = v++;
  return t;
}

Tensor filled(Shape shape, float value) {
  Tensor t(DType::Float32, std::move(shape));
  for (auto& x : t.f32()) x = value;
  return t;
}

std::vector<float> values(const Tensor& t) { return {t.f32().begin(), t.f32().end()}; }

nn::Conv2dAttrs conv_attrs(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride = 1,
                           std::int64_t pad = 0, std::int64_t dilation = 1, std::int64_t groups = 1) {
  nn::Conv2dAttrs a;
  a.in_channels = in;
  a.out_channels = out;
  a.kernel[0] = a.kernel[1] = k;
  a.stride[0] = a.stride[1] = stride;
  a.padding[0] = a.padding[1] = pad;
  a.dilation[0] = a.dilation[1] = dilation;
  a.groups = groups;
  return a;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ReferenceConv, ValidWindow) {
  const Tensor y = conv2d(iota({1, 1, 3, 3}, 1), filled({1, 1, 2, 2}, 1), nullptr, conv_attrs(1, 1, 2));
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_THAT(values(y), ElementsAreArray({12.f, 16.f, 24.f, 28.f}));
}

TEST(ReferenceConv, ZeroPadding) {
  const Tensor y = conv2d(filled({1, 1, 3, 3}, 1), filled({1, 1, 3, 3}, 1), nullptr, conv_attrs(1, 1, 3, 1, 1));
  EXPECT_THAT(values(y), ElementsAreArray({4.f, 6.f, 4.f, 6.f, 9.f, 6.f, 4.f, 6.f, 4.f}));
}

TEST(ReferenceConv, StrideWithPadding) {
  const Tensor y = conv2d(iota({1, 1, 4, 4}), filled({1, 1, 3, 3}, 1), nullptr, conv_attrs(1, 1, 3, 2, 1));
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_THAT(values(y), ElementsAreArray({10.f, 24.f, 51.f, 90.f}));
}

TEST(ReferenceConv, Dilation) {
  const Tensor y = conv2d(iota({1, 1, 5, 5}), filled({1, 1, 2, 2}, 1), nullptr, conv_attrs(1, 1, 2, 1, 0, 2));
  EXPECT_EQ(y.shape(), (Shape{1, 1, 3, 3}));
  // x[i][j] + x[i][j+2] + x[i+2][j] + x[i+2][j+2] = 24 + 4 * (5i + j)
  EXPECT_THAT(values(y), ElementsAreArray({24.f, 28.f, 32.f, 44.f, 48.f, 52.f, 64.f, 68.f, 72.f}));
}

TEST(ReferenceConv, GroupsAndBias) {
  const Tensor x = make_f32({1, 4, 1, 1}, {1, 2, 3, 4});
  const Tensor w = make_f32({2, 2, 1, 1}, {1, 10, 100, 1000});
  const Tensor b = make_f32({2}, {0.5f, -0.5f});
  const Tensor y = conv2d(x, w, &b, conv_attrs(4, 2, 1, 1, 0, 1, 2));
  EXPECT_THAT(values(y), ElementsAreArray({21.5f, 4299.5f}));
}

TEST(ReferenceConv, DepthwiseStridedOverABatch) {
  // Two images; channel c of image n is filled with (n + 1) * (c + 1).
  Tensor x(DType::Float32, {2, 2, 2, 2});
  for (std::int64_t i = 0; i < 16; ++i) {
    const std::int64_t value = (i / 8 + 1) * ((i / 4) % 2 + 1);  // integer steps by design
    x.f32()[i] = static_cast<float>(value);
  }
  const Tensor w = make_f32({2, 1, 2, 2}, {1, 1, 1, 1, 1, 2, 3, 4});
  const Tensor y = conv2d(x, w, nullptr, conv_attrs(2, 2, 2, 2, 0, 1, 2));
  EXPECT_EQ(y.shape(), (Shape{2, 2, 1, 1}));
  EXPECT_THAT(values(y), ElementsAreArray({4.f, 20.f, 8.f, 40.f}));
}

TEST(ReferenceConv, RectangularKernelStrideAndPadding) {
  nn::Conv2dAttrs a = conv_attrs(1, 1, 1);
  a.kernel[1] = 3;
  a.padding[1] = 1;
  a.stride[1] = 2;
  const Tensor y = conv2d(iota({1, 1, 2, 4}), filled({1, 1, 1, 3}, 1), nullptr, a);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_THAT(values(y), ElementsAreArray({1.f, 6.f, 9.f, 18.f}));
}

TEST(ReferenceConv, AccumulatesInDouble) {
  // 1e8 + 1 - 1e8 in float32 would lose the 1.
  const Tensor x = make_f32({1, 3, 1, 1}, {1e8f, 1.0f, -1e8f});
  const Tensor y = conv2d(x, filled({1, 3, 1, 1}, 1), nullptr, conv_attrs(3, 1, 1));
  EXPECT_EQ(values(y)[0], 1.0f);
}

// out[n][oc][oy][ox] = bias + sum over (ic, ky, kx) of w * x, one output at a
// time with every index spelled out: the definition the blocked and
// vectorised loops of conv2d must reproduce.
Tensor naive_conv(const Tensor& x, const Tensor& w, const Tensor& bias, const nn::Conv2dAttrs& a) {
  const auto n_batch = x.dim(0), height = x.dim(2), width = x.dim(3);
  const auto in_per_group = w.dim(1), out_per_group = a.out_channels / a.groups;
  const auto out_h = (height + 2 * a.padding[0] - a.dilation[0] * (a.kernel[0] - 1) - 1) / a.stride[0] + 1;
  const auto out_w = (width + 2 * a.padding[1] - a.dilation[1] * (a.kernel[1] - 1) - 1) / a.stride[1] + 1;
  Tensor out(DType::Float32, {n_batch, a.out_channels, out_h, out_w});
  auto at = [](const Tensor& t, std::int64_t i0, std::int64_t i1, std::int64_t i2, std::int64_t i3) {
    return static_cast<double>(
        t.f32()[static_cast<std::size_t>(((i0 * t.dim(1) + i1) * t.dim(2) + i2) * t.dim(3) + i3)]);
  };
  std::size_t o = 0;
  for (std::int64_t n = 0; n < n_batch; ++n) {
    for (std::int64_t oc = 0; oc < a.out_channels; ++oc) {
      for (std::int64_t oy = 0; oy < out_h; ++oy) {
        for (std::int64_t ox = 0; ox < out_w; ++ox) {
          double sum = bias.f32()[static_cast<std::size_t>(oc)];
          for (std::int64_t ic = 0; ic < in_per_group; ++ic) {
            for (std::int64_t ky = 0; ky < a.kernel[0]; ++ky) {
              for (std::int64_t kx = 0; kx < a.kernel[1]; ++kx) {
                const auto y = oy * a.stride[0] - a.padding[0] + ky * a.dilation[0];
                const auto xx = ox * a.stride[1] - a.padding[1] + kx * a.dilation[1];
                if (y < 0 || y >= height || xx < 0 || xx >= width) continue;
                sum += at(w, oc, ic, ky, kx) * at(x, n, oc / out_per_group * in_per_group + ic, y, xx);
              }
            }
          }
          out.f32()[o++] = static_cast<float>(sum);
        }
      }
    }
  }
  return out;
}

TEST(ReferenceConv, AgreesWithANaiveLoopOnAssortedShapes) {
  // 1x1 planes that are and are not multiples of the vector block (16), with
  // output channels that do not fill the channel blocks, groups, depthwise
  // and full kernels with strides 1 to 3, dilation and uneven padding.
  struct Case {
    std::int64_t batch, in, out, size, kernel, stride, pad, dilation, groups;
  };
  const Case cases[] = {
      {2, 5, 11, 7, 1, 1, 0, 1, 1}, {1, 16, 9, 4, 1, 1, 0, 1, 1},  {3, 6, 4, 9, 1, 1, 0, 1, 2},
      {1, 3, 19, 6, 1, 1, 0, 1, 1}, {2, 8, 8, 13, 3, 1, 1, 1, 8},  {1, 6, 6, 14, 5, 2, 2, 1, 6},
      {2, 4, 4, 11, 3, 2, 1, 2, 4}, {1, 3, 10, 17, 3, 2, 1, 1, 1}, {1, 4, 6, 12, 3, 3, 0, 1, 2},
      {1, 2, 3, 9, 5, 1, 2, 1, 1},  {2, 4, 6, 9, 1, 2, 1, 1, 1},   {1, 3, 5, 8, 1, 3, 0, 1, 1},
  };
  Random rng(11);
  for (const auto& c : cases) {
    auto a = conv_attrs(c.in, c.out, c.kernel, c.stride, c.pad, c.dilation, c.groups);
    a.bias = true;
    Tensor x(DType::Float32, {c.batch, c.in, c.size, c.size});
    Tensor w(DType::Float32, {c.out, c.in / c.groups, c.kernel, c.kernel});
    Tensor b(DType::Float32, {c.out});
    for (Tensor* t : {&x, &w, &b}) {
      for (auto& v : t->f32()) v = static_cast<float>(rng.normal());
    }
    const Tensor got = conv2d(x, w, &b, a);
    const Tensor want = naive_conv(x, w, b, a);
    // And with rows and columns treated differently: strides, dilations, padding.
    auto uneven = a;
    uneven.stride[1] = uneven.stride[0] + 1;
    uneven.dilation[0] = uneven.dilation[1] + 1;
    uneven.padding[1] = uneven.padding[0] == 0 ? 1 : 0;
    EXPECT_THAT(values(conv2d(x, w, &b, uneven)), Pointwise(FloatNear(1e-5f), values(naive_conv(x, w, b, uneven))))
        << "uneven: in " << c.in << " out " << c.out << " size " << c.size << " kernel " << c.kernel;
    ASSERT_EQ(got.shape(), want.shape());
    // Both sum in double; only the order of the additions may differ.
    EXPECT_THAT(values(got), Pointwise(FloatNear(1e-5f), values(want)))
        << "in " << c.in << " out " << c.out << " size " << c.size << " kernel " << c.kernel << " stride " << c.stride
        << " groups " << c.groups;
  }
}

TEST(ReferenceConv, NoOutputChannelsGiveAnEmptyTensor) {
  const Tensor y =
      conv2d(filled({1, 1, 5, 5}, 1.0f), Tensor(DType::Float32, {0, 1, 3, 3}), nullptr, conv_attrs(1, 0, 3));
  EXPECT_EQ(y.shape(), (Shape{1, 0, 3, 3}));
}

TEST(ReferenceConv, ChecksOperands) {
  EXPECT_THAT(error_of([] {
                (void)conv2d(iota({1, 2, 3, 3}), filled({1, 1, 3, 3}, 1), nullptr, conv_attrs(1, 1, 3));
              }),
              HasSubstr("input has 2 channels, the convolution expects 1"));
  EXPECT_THAT(error_of([] {
                (void)conv2d(iota({1, 1, 3, 3}), filled({1, 1, 2, 2}, 1), nullptr, conv_attrs(1, 1, 3));
              }),
              HasSubstr("weight has shape [1, 1, 2, 2], expected [1, 1, 3, 3]"));
  EXPECT_THAT(error_of([] {
                (void)conv2d(iota({1, 1, 2, 2}), filled({1, 1, 3, 3}, 1), nullptr, conv_attrs(1, 1, 3));
              }),
              HasSubstr("smaller than the window"));
  EXPECT_THAT(error_of([] {
                (void)conv2d(iota({1, 3, 2, 2}), filled({2, 1, 1, 1}, 1), nullptr, conv_attrs(3, 2, 1, 1, 0, 1, 2));
              }),
              HasSubstr("groups 2 does not divide"));
}

TEST(ReferenceBatchNorm, UsesRunningStatistics) {
  const Tensor x = make_f32({1, 2, 1, 2}, {1, 2, 3, 4});
  const Tensor y = batch_norm(x, make_f32({2}, {2, 1}), make_f32({2}, {0.5f, -1}), make_f32({2}, {1, 2}),
                              make_f32({2}, {4, 0.25f}), 0.0);
  EXPECT_THAT(values(y), ElementsAreArray({0.5f, 1.5f, 1.f, 3.f}));
  // eps is added to the variance: var 0, eps 1 divides by 1.
  const Tensor z = batch_norm(make_f32({1, 1, 1, 1}, {5}), make_f32({1}, {1}), make_f32({1}, {0}), make_f32({1}, {3}),
                              make_f32({1}, {0}), 1.0);
  EXPECT_EQ(values(z)[0], 2.0f);
  EXPECT_THAT(error_of([&] {
                (void)batch_norm(x, make_f32({3}, {1, 1, 1}), make_f32({2}, {0, 0}), make_f32({2}, {0, 0}),
                                 make_f32({2}, {1, 1}), 1e-5);
              }),
              HasSubstr("weight has shape [3], expected [2]"));
}

TEST(ReferenceBatchNorm, WithSiluGivesTheTwoLayersBitForBit) {
  Random rng(5);
  Tensor x(DType::Float32, {2, 3, 5, 7});
  for (auto& v : x.f32()) v = static_cast<float>(4.0 * rng.normal());
  const Tensor gamma = make_f32({3}, {1.5f, -0.5f, 2.0f});
  const Tensor beta = make_f32({3}, {0.1f, 0.0f, -3.0f});
  const Tensor mean = make_f32({3}, {0.2f, -1.0f, 0.0f});
  const Tensor var = make_f32({3}, {2.0f, 0.5f, 1.0f});
  const Tensor fused = batch_norm(x, gamma, beta, mean, var, 1e-3, true);
  const Tensor apart = activation(nn::LayerKind::SiLU, batch_norm(x, gamma, beta, mean, var, 1e-3));
  EXPECT_EQ(std::memcmp(fused.bytes().data(), apart.bytes().data(), fused.nbytes()), 0);
}

TEST(ReferenceExp, AgreesWithStdExpToAFewUlpOverItsRange) {
  // A dense sweep of the argument range [-708, 708],
  // plus the points where k changes (multiples of ln 2 / 2) and the ends.
  double worst = 0.0;
  double worst_at = 0.0;
  auto check = [&](double x) {
    const double want = std::exp(x);
    const double rel = std::abs(exp_double(x) - want) / want;
    if (rel > worst) {
      worst = rel;
      worst_at = x;
    }
  };
  for (double x = -708.0; x <= 708.0; x += 0.0137) check(x);
  for (int k = -2042; k <= 2042; ++k) {
    const double x = k * 0.34657359027997264;
    for (double d : {-1e-12, 0.0, 1e-12}) check(x + d);
  }
  for (double x : {-708.0, -1e-300, 0.0, 1e-300, 1e-8, -1e-8, 708.0}) check(x);
  EXPECT_LT(worst, 1e-15) << "at x = " << worst_at;
  EXPECT_EQ(exp_double(0.0), 1.0);
  EXPECT_TRUE(std::isnan(exp_double(std::numeric_limits<double>::quiet_NaN())));
}

TEST(ReferenceActivation, MatchesTheDefinitions) {
  const Tensor x = make_f32({5}, {-4, -1, 0, 1, 4});
  EXPECT_THAT(values(activation(nn::LayerKind::ReLU, x)), ElementsAreArray({0.f, 0.f, 0.f, 1.f, 4.f}));
  EXPECT_THAT(values(activation(nn::LayerKind::Sigmoid, x)),
              Pointwise(FloatNear(1e-7f), {0.01798621f, 0.26894142f, 0.5f, 0.73105858f, 0.98201379f}));
  EXPECT_THAT(values(activation(nn::LayerKind::SiLU, x)),
              Pointwise(FloatNear(1e-6f), {-0.07194484f, -0.26894142f, 0.f, 0.73105858f, 3.92805516f}));
  EXPECT_THAT(values(activation(nn::LayerKind::Hardswish, x)),
              Pointwise(FloatNear(1e-7f), {0.f, -1.f / 3.f, 0.f, 2.f / 3.f, 4.f}));
  EXPECT_THAT(values(activation(nn::LayerKind::Hardsigmoid, x)),
              Pointwise(FloatNear(1e-7f), {0.f, 1.f / 3.f, 0.5f, 2.f / 3.f, 1.f}));
  EXPECT_THAT(values(activation(nn::LayerKind::ReLU6, make_f32({5}, {-1, 3, 6, 7, 1e30f}))),
              ElementsAreArray({0.f, 3.f, 6.f, 6.f, 6.f}));
  EXPECT_TRUE(std::isnan(values(activation(nn::LayerKind::ReLU6, make_f32({1}, {NAN})))[0]));  // as torch's hardtanh
  // Saturation without overflow.
  const Tensor big = make_f32({2}, {-1000, 1000});
  EXPECT_THAT(values(activation(nn::LayerKind::SiLU, big)), ElementsAreArray({-0.f, 1000.f}));
  EXPECT_THAT(values(activation(nn::LayerKind::Sigmoid, big)), ElementsAreArray({0.f, 1.f}));
  // Results below float32's smallest normal number are flushed to zeros of their sign
  // (-95 * sigmoid(-95) is about -5e-40).
  const auto tiny = values(activation(nn::LayerKind::SiLU, make_f32({2}, {-95, -20})));
  EXPECT_EQ(tiny[0], 0.0f);
  EXPECT_TRUE(std::signbit(tiny[0]));
  EXPECT_FLOAT_EQ(tiny[1], static_cast<float>(-20.0 / (1.0 + std::exp(20.0))));
  EXPECT_EQ(values(activation(nn::LayerKind::Sigmoid, make_f32({1}, {-95})))[0], 0.0f);
  // The infinities as PyTorch gives them: SiLU(-inf) = -inf / (1 + inf) is NaN.
  const float inf = std::numeric_limits<float>::infinity();
  const auto silu_inf = values(activation(nn::LayerKind::SiLU, make_f32({2}, {-inf, inf})));
  EXPECT_TRUE(std::isnan(silu_inf[0]));
  EXPECT_EQ(silu_inf[1], inf);
  EXPECT_THAT(values(activation(nn::LayerKind::Sigmoid, make_f32({2}, {-inf, inf}))), ElementsAreArray({0.f, 1.f}));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (auto kind : {nn::LayerKind::SiLU, nn::LayerKind::Sigmoid}) {
    EXPECT_TRUE(std::isnan(values(activation(kind, make_f32({1}, {nan})))[0])) << nn::layer_kind_name(kind);
  }
  EXPECT_THROW((void)activation(nn::LayerKind::Conv2d, x), Error);
}

TEST(ReferencePool, GlobalAverage) {
  const Tensor y = adaptive_avg_pool_1x1(make_f32({1, 2, 2, 2}, {1, 2, 3, 4, -1, -1, -1, 5}));
  EXPECT_EQ(y.shape(), (Shape{1, 2, 1, 1}));
  EXPECT_THAT(values(y), ElementsAreArray({2.5f, 0.5f}));
}

TEST(ReferencePool, MaxPoolPadsWithMinusInfinity) {
  const nn::PoolAttrs a{{3, 3}, {2, 2}, {1, 1}};
  const Tensor y = max_pool2d(iota({1, 1, 4, 4}), a);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_THAT(values(y), ElementsAreArray({5.f, 7.f, 13.f, 15.f}));
  // All-negative input: padding must not win.
  EXPECT_THAT(values(max_pool2d(filled({1, 1, 4, 4}, -1), a)), ElementsAreArray({-1.f, -1.f, -1.f, -1.f}));
  Tensor with_nan = iota({1, 1, 4, 4});
  with_nan.f32()[0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(values(max_pool2d(with_nan, a))[0]));
  // ResNet's stem pool on an odd size: floor((5 + 2 - 3) / 2) + 1 = 3.
  EXPECT_EQ(max_pool2d(iota({2, 3, 5, 5}), a).shape(), (Shape{2, 3, 3, 3}));
  EXPECT_THAT(error_of([] {
                (void)max_pool2d(iota({1, 1, 4, 4}), nn::PoolAttrs{{2, 2}, {1, 1}, {2, 2}});
              }),
              HasSubstr("more than half the kernel"));
}

TEST(ReferencePool, MaxPoolCeilModeKeepsTheOverhangingWindow) {
  // SqueezeNet's pools: torch.nn.MaxPool2d(3, 2, ceil_mode=True) on 0..35 as 6x6 gives
  // [14, 16, 17, 26, 28, 29, 32, 34, 35] (the last row and column of windows overhang).
  nn::PoolAttrs a{{3, 3}, {2, 2}, {0, 0}};
  a.ceil_mode = true;
  const Tensor y = max_pool2d(iota({1, 1, 6, 6}), a);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 3, 3}));
  EXPECT_THAT(values(y), ElementsAreArray({14.f, 16.f, 17.f, 26.f, 28.f, 29.f, 32.f, 34.f, 35.f}));
  // A window that would start in the end padding is dropped: MaxPool2d(2, 2, padding=1, ceil_mode=True) on 5 gives 3.
  nn::PoolAttrs padded{{2, 2}, {2, 2}, {1, 1}};
  padded.ceil_mode = true;
  EXPECT_EQ(max_pool2d(iota({1, 1, 5, 5}), padded).shape(), (Shape{1, 1, 3, 3}));
}

TEST(ReferencePool, AveragePoolTakesTheMeanOfEachWindow) {
  // DenseNet's transition pool: 2x2, stride 2, on an odd size (floor mode drops the last row and column).
  const Tensor y = avg_pool2d(iota({1, 1, 5, 5}), nn::PoolAttrs{{2, 2}, {2, 2}, {0, 0}});
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_THAT(values(y), ElementsAreArray({3.f, 5.f, 13.f, 15.f}));  // (0+1+5+6)/4, (2+3+7+8)/4, ...
  // Inception's F.avg_pool2d(x, 3, stride=1, padding=1): the padding counts as zeros in the divisor of 9.
  const Tensor p = avg_pool2d(iota({1, 1, 3, 3}), nn::PoolAttrs{{3, 3}, {1, 1}, {1, 1}});
  EXPECT_EQ(p.shape(), (Shape{1, 1, 3, 3}));
  EXPECT_FLOAT_EQ(values(p)[0], 8.f / 9.f);   // (0+1+3+4)/9
  EXPECT_FLOAT_EQ(values(p)[1], 15.f / 9.f);  // (0+1+2+3+4+5)/9
  EXPECT_FLOAT_EQ(values(p)[4], 4.f);         // every cell: 36/9
  nn::PoolAttrs ceil{{2, 2}, {2, 2}, {0, 0}};
  ceil.ceil_mode = true;
  EXPECT_THAT(error_of([&] { (void)avg_pool2d(iota({1, 1, 5, 5}), ceil); }), HasSubstr("only floor mode"));
}

TEST(ReferencePool, AdaptiveAveragePoolUsesTorchsWindows) {
  // 5 -> 3 along each axis: windows [0, 2), [1, 4), [3, 5), overlapping and of two sizes.
  const Tensor y = adaptive_avg_pool2d(iota({1, 1, 5, 5}), 3, 3);
  EXPECT_EQ(y.shape(), (Shape{1, 1, 3, 3}));
  EXPECT_FLOAT_EQ(values(y)[0], 3.f);   // (0+1+5+6)/4
  EXPECT_FLOAT_EQ(values(y)[4], 12.f);  // rows and columns 1-3
  EXPECT_FLOAT_EQ(values(y)[8], 21.f);  // (18+19+23+24)/4
  // To the input's own size (AlexNet's 6x6, VGG's 7x7 at 224): the identity.
  EXPECT_EQ(values(adaptive_avg_pool2d(iota({1, 2, 3, 3}), 3, 3)), values(iota({1, 2, 3, 3})));
  EXPECT_EQ(values(adaptive_avg_pool2d(iota({1, 1, 2, 2}), 1, 1)), std::vector<float>{1.5f});
}

TEST(ReferenceElementwise, ConcatenatesAlongChannelsImageByImage) {
  const Tensor a = iota({2, 1, 1, 2});         // image 0: 0 1; image 1: 2 3
  const Tensor b = iota({2, 2, 1, 2}, 10.0f);  // image 0: 10 11 12 13; image 1: 14 15 16 17
  const Tensor y = concat_channels({&a, &b});
  EXPECT_EQ(y.shape(), (Shape{2, 3, 1, 2}));
  EXPECT_THAT(values(y), ElementsAreArray({0.f, 1.f, 10.f, 11.f, 12.f, 13.f, 2.f, 3.f, 14.f, 15.f, 16.f, 17.f}));
  EXPECT_EQ(values(concat_channels({&a})), values(a));  // DenseNet's first layer concatenates one tensor
  const Tensor other = iota({2, 1, 2, 2});
  EXPECT_THAT(error_of([&] { (void)concat_channels({&a, &other}); }), HasSubstr("input 1 is [2, 1, 2, 2]"));
}

TEST(ReferenceElementwise, ChannelAffineScalesAndShiftsEachChannel) {
  const Tensor x = make_f32({1, 2, 1, 2}, {1, 2, 3, 4});
  EXPECT_THAT(values(channel_affine(x, {2.0, -1.0}, {0.5, 1.0})), ElementsAreArray({2.5f, 4.5f, -2.f, -3.f}));
  EXPECT_THAT(error_of([&] { (void)channel_affine(x, {1.0}, {0.0}); }), HasSubstr("2 channels, but 1 scales"));
}

TEST(ReferenceChannels, SliceAndShuffleMoveWholePlanes) {
  const Tensor x = iota({1, 4, 1, 2});  // channel c holds 2c, 2c+1
  EXPECT_THAT(values(channel_slice(x, 2, 4)), ElementsAreArray({4.f, 5.f, 6.f, 7.f}));
  EXPECT_THAT(error_of([&] { (void)channel_slice(x, 2, 5); }), HasSubstr("channels [2, 5)"));
  // Two groups of two: channels 0 1 | 2 3 interleave to 0 2 1 3.
  EXPECT_THAT(values(channel_shuffle(x, 2)), ElementsAreArray({0.f, 1.f, 4.f, 5.f, 2.f, 3.f, 6.f, 7.f}));
  EXPECT_THAT(error_of([&] { (void)channel_shuffle(iota({1, 3, 1, 1}), 2); }), HasSubstr("3 channels"));
}

TEST(ReferenceChannels, LayerNormOverEachPixelsChannels) {
  // Pixel 0 has channels {1, 3}: mean 2, biased variance 1; pixel 1 has {5, 5}: variance 0.
  const Tensor x = make_f32({1, 2, 1, 2}, {1, 5, 3, 5});
  const Tensor y = layer_norm_channels(x, make_f32({2}, {2, 1}), make_f32({2}, {0, 10}), 0.0 + 1e-12);
  EXPECT_NEAR(values(y)[0], -2.f, 1e-5);  // (1-2)/1 * 2 + 0
  EXPECT_NEAR(values(y)[2], 11.f, 1e-5);  // (3-2)/1 * 1 + 10
  EXPECT_NEAR(values(y)[1], 0.f, 1e-5);   // (5-5) * 2 + 0
  EXPECT_NEAR(values(y)[3], 10.f, 1e-5);
}

TEST(ReferenceChannels, PointwiseLinearAndLayerScaleAndGelu) {
  const Tensor x = make_f32({1, 2, 1, 2}, {1, 2, 3, 4});  // pixel 0: (1, 3), pixel 1: (2, 4)
  const Tensor w = make_f32({1, 2}, {10, 1});
  const Tensor b = make_f32({1}, {0.5});
  EXPECT_THAT(values(pointwise_linear(x, w, &b)), ElementsAreArray({13.5f, 24.5f}));
  EXPECT_THAT(values(scale_channels(x, make_f32({2, 1, 1}, {2, -1}))), ElementsAreArray({2.f, 4.f, -3.f, -4.f}));
  const Tensor g = activation(nn::LayerKind::GELU, make_f32({3}, {0, 1, -1}));
  EXPECT_FLOAT_EQ(values(g)[0], 0.f);
  EXPECT_NEAR(values(g)[1], 0.8413447f, 1e-6);   // Phi(1)
  EXPECT_NEAR(values(g)[2], -0.1586553f, 1e-6);  // -(1 - Phi(1))
}

TEST(ReferenceElementwise, ChannelScaleAddFlatten) {
  const Tensor x = make_f32({1, 2, 1, 2}, {1, 2, 3, 4});
  EXPECT_THAT(values(mul_channels(x, make_f32({1, 2, 1, 1}, {10, -1}))), ElementsAreArray({10.f, 20.f, -3.f, -4.f}));
  EXPECT_THAT(values(add(x, x)), ElementsAreArray({2.f, 4.f, 6.f, 8.f}));
  EXPECT_THAT(error_of([&] { (void)add(x, iota({1, 2, 2, 1})); }), HasSubstr("second operand has shape [1, 2, 2, 1]"));
  EXPECT_THAT(error_of([&] { (void)mul_channels(x, iota({1, 1, 1, 1})); }), HasSubstr("expected [1, 2, 1, 1]"));
  const Tensor f = flatten(iota({2, 3, 1, 1}), 1);
  EXPECT_EQ(f.shape(), (Shape{2, 3}));
  EXPECT_EQ(values(f)[4], 4.0f);
}

TEST(ReferenceLinear, MatrixTimesWeightTransposedPlusBias) {
  const Tensor x = make_f32({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor w = make_f32({2, 3}, {1, 0, -1, 0.5f, 0.5f, 0.5f});
  const Tensor b = make_f32({2}, {1, 0});
  EXPECT_THAT(values(linear(x, w, &b)), ElementsAreArray({-1.f, 3.f, -1.f, 7.5f}));
  EXPECT_THAT(values(linear(x, w, nullptr)), ElementsAreArray({-2.f, 3.f, -2.f, 7.5f}));
  EXPECT_THAT(error_of([&] { (void)linear(x, make_f32({1, 2}, {1, 1}), nullptr); }), HasSubstr("input has 3 features"));
}

}  // namespace
}  // namespace pt2onnx::reference
