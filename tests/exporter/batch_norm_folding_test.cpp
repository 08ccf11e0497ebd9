#include "exporter/batch_norm_folding.h"

#include <cmath>

#include <gtest/gtest.h>

#include "common/random.h"
#include "exporter/demo_state.h"
#include "pt2onnx/error.h"

namespace pt2onnx::exporter {
namespace {

Tensor random_tensor(Random& rng, const Shape& shape, double low, double high) {
  Tensor t(DType::Float32, shape);
  for (auto& v : t.f32()) v = static_cast<float>(low + (high - low) * rng.uniform());
  return t;
}

// Direct 2-D convolution of one image [C, H, W], stride 1, symmetric padding,
// groups; double accumulation. The unfolded side of the comparison.
std::vector<double> conv2d(const Tensor& x, const Tensor& w, const Tensor* b, std::int64_t groups, std::int64_t pad) {
  const auto c_in = x.dim(0), h = x.dim(1), wd = x.dim(2);
  const auto c_out = w.dim(0), k = w.dim(2);
  const auto in_per_group = c_in / groups, out_per_group = c_out / groups;
  const auto ho = h + 2 * pad - k + 1, wo = wd + 2 * pad - k + 1;
  const auto xs = x.f32();
  const auto ws = w.f32();
  std::vector<double> y(static_cast<std::size_t>(c_out * ho * wo));
  for (std::int64_t o = 0; o < c_out; ++o) {
    const auto g = o / out_per_group;
    for (std::int64_t i = 0; i < ho; ++i) {
      for (std::int64_t j = 0; j < wo; ++j) {
        double acc = b != nullptr ? b->f32()[static_cast<std::size_t>(o)] : 0.0;
        for (std::int64_t c = 0; c < in_per_group; ++c) {
          for (std::int64_t u = 0; u < k; ++u) {
            for (std::int64_t v = 0; v < k; ++v) {
              const auto yi = i + u - pad, xj = j + v - pad;
              if (yi < 0 || yi >= h || xj < 0 || xj >= wd) continue;
              acc += static_cast<double>(ws[static_cast<std::size_t>(((o * in_per_group + c) * k + u) * k + v)]) *
                     xs[static_cast<std::size_t>(((g * in_per_group + c) * h + yi) * wd + xj)];
            }
          }
        }
        y[static_cast<std::size_t>((o * ho + i) * wo + j)] = acc;
      }
    }
  }
  return y;
}

struct FoldCase {
  std::int64_t c_in, c_out, groups;
  bool conv_bias;
};

class FoldBatchNorm : public ::testing::TestWithParam<FoldCase> {};

TEST_P(FoldBatchNorm, MatchesConvThenBatchNormInEvalMode) {
  const auto p = GetParam();
  SCOPED_TRACE(::testing::Message() << "c_in " << p.c_in << " c_out " << p.c_out << " groups " << p.groups << " bias "
                                    << p.conv_bias);
  Random rng(1234);
  const std::int64_t k = 3, pad = 1, h = 5, wd = 6;
  const auto x = random_tensor(rng, {p.c_in, h, wd}, -2, 2);
  const auto w = random_tensor(rng, {p.c_out, p.c_in / p.groups, k, k}, -1, 1);
  const auto b = random_tensor(rng, {p.c_out}, -1, 1);
  const auto gamma = random_tensor(rng, {p.c_out}, 0.2, 3);
  const auto beta = random_tensor(rng, {p.c_out}, -1, 1);
  const auto mean = random_tensor(rng, {p.c_out}, -2, 2);
  const auto var = random_tensor(rng, {p.c_out}, 0.01, 4);
  const double eps = 1e-3;
  const Tensor* bias = p.conv_bias ? &b : nullptr;

  // Unfolded: conv, then y = gamma (z - mean) / sqrt(var + eps) + beta per channel.
  auto expected = conv2d(x, w, bias, p.groups, pad);
  const auto per_channel = expected.size() / static_cast<std::size_t>(p.c_out);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto c = i / per_channel;
    expected[i] = gamma.f32()[c] * (expected[i] - mean.f32()[c]) / std::sqrt(var.f32()[c] + eps) + beta.f32()[c];
  }

  const auto folded = fold_batch_norm(w, bias, {gamma, beta, mean, var, eps});
  ASSERT_EQ(folded.weight.shape(), w.shape());
  ASSERT_EQ(folded.bias.shape(), (Shape{p.c_out}));
  const auto got = conv2d(x, folded.weight, &folded.bias, p.groups, pad);
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    // float32 rounding of the folded weights, relative to the output's scale.
    EXPECT_NEAR(got[i], expected[i], 1e-5 * (1 + std::abs(expected[i]))) << "at " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, FoldBatchNorm,
                         ::testing::Values(FoldCase{2, 3, 1, false}, FoldCase{2, 3, 1, true}, FoldCase{4, 4, 4, false},
                                           FoldCase{4, 6, 2, true}));

TEST(FoldBatchNormErrors, RejectsNonPositiveVarianceAndChannelMismatch) {
  const auto w = make_f32({2, 1, 1, 1}, {1, 2});
  const auto ones = make_f32({2}, {1, 1});
  const auto zeros = make_f32({2}, {0, 0});
  const auto bad_var = make_f32({2}, {1, -1});
  try {
    (void)fold_batch_norm(w, nullptr, {ones, zeros, zeros, bad_var, 1e-5});
    FAIL() << "negative variance accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::ExportFailed);
    EXPECT_NE(std::string(e.what()).find("channel 1"), std::string::npos) << e.what();
  }
  const auto three = make_f32({3}, {1, 1, 1});
  EXPECT_THROW((void)fold_batch_norm(w, nullptr, {three, zeros, zeros, ones, 1e-5}), Error);
}

}  // namespace
}  // namespace pt2onnx::exporter
