#include "verify/compare.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "pt2onnx/error.h"

namespace pt2onnx::verify {
namespace {

TEST(Compare, ReportsAbsoluteRelativeAndSigmoidDifferences) {
  const auto expected = make_f32({1, 3}, {200.0f, -2.0f, 0.0f});
  const auto actual = make_f32({1, 3}, {200.005f, -2.5f, 0.0f});
  const auto c = compare(actual, expected, expected, Tolerance{1e-2, 0.0}, ProbeRole::Stress);
  EXPECT_NEAR(c.max_abs_diff, 0.5, 1e-6);
  EXPECT_NEAR(c.max_rel_diff, 0.25, 1e-6);
  // sigmoid(-2) - sigmoid(-2.5) = 0.119203 - 0.075858
  EXPECT_NEAR(c.max_sigmoid_diff, 0.0433447, 1e-6);
  EXPECT_EQ(c.verdict, Verdict::Failed);
  EXPECT_TRUE(c.finite);
}

TEST(Compare, RelativeToleranceScalesWithTheLargestReferenceLogit) {
  const auto expected = make_f32({1, 2}, {1000.0f, 1.0f});
  const auto judge = [&](const Tensor& actual, Tolerance t) {
    return compare(actual, expected, expected, t, ProbeRole::Stress).verdict;
  };
  const auto actual = make_f32({1, 2}, {1000.5f, 1.0f});
  EXPECT_EQ(judge(actual, Tolerance{1e-2, 0.0}), Verdict::Failed);
  EXPECT_EQ(judge(actual, Tolerance{1e-2, 1e-3}), Verdict::Ok);
  // The small logit beside the large one is judged on the probe's scale too...
  EXPECT_EQ(judge(make_f32({1, 2}, {1000.0f, 1.5f}), Tolerance{1e-2, 1e-3}), Verdict::Ok);
  // ...but not beyond it.
  EXPECT_EQ(judge(make_f32({1, 2}, {1000.0f, 2.5f}), Tolerance{1e-2, 1e-3}), Verdict::Failed);
}

TEST(Compare, TheThresholdIsTheLargerOfTheToleranceAndTheSpreadMultiple) {
  // Tolerance 0.01 + 0.001 * 100 = 0.11; spread 0.05, x8 = 0.4.
  const auto expected = make_f32({1, 2}, {100.0f, -3.0f});
  const auto perturbed = make_f32({1, 2}, {100.05f, -3.0f});
  const Tolerance t{1e-2, 1e-3, 8.0};
  const auto within = compare(make_f32({1, 2}, {100.3f, -3.0f}), expected, perturbed, t, ProbeRole::Stress);
  EXPECT_EQ(within.verdict, Verdict::Ok);
  EXPECT_NEAR(within.spread, 0.05, 1e-5);
  EXPECT_NEAR(within.tolerance, 0.11, 1e-9);
  EXPECT_NEAR(within.threshold, 0.4, 1e-4);
  EXPECT_EQ(compare(make_f32({1, 2}, {100.5f, -3.0f}), expected, perturbed, t, ProbeRole::Stress).verdict,
            Verdict::Failed);
  // A tiny spread leaves the tolerance in force.
  const auto quiet = compare(make_f32({1, 2}, {100.1f, -3.0f}), expected, expected, t, ProbeRole::Stress);
  EXPECT_EQ(quiet.verdict, Verdict::Ok);
  EXPECT_NEAR(quiet.threshold, 0.11, 1e-9);
}

TEST(Compare, AProbeWhoseSpreadIsBeyondTheToleranceIsUnstableNotFailed) {
  const auto expected = make_f32({1, 2}, {5000.0f, -4000.0f});
  const auto perturbed = make_f32({1, 2}, {5400.0f, -4000.0f});  // spread 400 > 0.01 + 5
  const auto actual = make_f32({1, 2}, {19000.0f, -4000.0f});    // even far beyond 32 x 400
  const auto c = compare(actual, expected, perturbed, Tolerance{}, ProbeRole::Stress);
  EXPECT_EQ(c.verdict, Verdict::Unstable);
  EXPECT_EQ(c.unstable_rows, 1);
  EXPECT_NEAR(c.spread, 400.0, 1e-3);
  // An input like production's is never set aside: it is held to 32 x its spread.
  EXPECT_EQ(compare(actual, expected, perturbed, Tolerance{}, ProbeRole::Production).verdict, Verdict::Failed);
  EXPECT_EQ(
      compare(make_f32({1, 2}, {6000.0f, -4000.0f}), expected, perturbed, Tolerance{}, ProbeRole::Production).verdict,
      Verdict::Ok);
}

TEST(Compare, TheSeedProbeKeepsTheSeedsAbsoluteToleranceWhileWellConditioned) {
  // Logits of 1000: atol + rtol * scale would allow 1.01, the seed's check 0.01.
  const auto expected = make_f32({1, 2}, {1000.0f, -800.0f});
  const auto actual = make_f32({1, 2}, {1000.5f, -800.0f});
  EXPECT_EQ(compare(actual, expected, expected, Tolerance{}, ProbeRole::Stress).verdict, Verdict::Ok);
  const auto seed = compare(actual, expected, expected, Tolerance{}, ProbeRole::Seed);
  EXPECT_EQ(seed.verdict, Verdict::Failed);
  EXPECT_DOUBLE_EQ(seed.threshold, 1e-2);
  // Where float32 itself moves it more, the spread multiple decides.
  const auto noisy = make_f32({1, 2}, {1000.03125f, -800.0f});
  EXPECT_EQ(compare(actual, expected, noisy, Tolerance{}, ProbeRole::Seed).verdict, Verdict::Ok);
}

TEST(Compare, BatchRowsAreJudgedEachOnItsOwnScaleAndSpread) {
  // Row 0 is unstable (spread 300 over 0.01 + 0.001 * 3000), row 1 is judged on 0.01 + 0.001 * 2.
  const auto expected = make_f32({2, 2}, {3000.0f, 1.0f, 2.0f, 1.0f});
  const auto perturbed = make_f32({2, 2}, {3300.0f, 1.0f, 2.0f, 1.0f});
  const auto good = make_f32({2, 2}, {3500.0f, 1.0f, 2.005f, 1.0f});
  const auto c = compare(good, expected, perturbed, Tolerance{}, ProbeRole::Stress);
  EXPECT_EQ(c.verdict, Verdict::Ok);
  EXPECT_EQ(c.unstable_rows, 1);
  EXPECT_NEAR(c.threshold, 0.012, 1e-9);     // the judged row's
  EXPECT_NEAR(c.max_abs_diff, 0.005, 1e-4);  // and its difference, not the unstable row's 500
  // Row 1 off by 0.5 fails, though row 0's scale would have allowed it.
  const auto bad = make_f32({2, 2}, {3000.0f, 1.0f, 2.5f, 1.0f});
  EXPECT_EQ(compare(bad, expected, perturbed, Tolerance{}, ProbeRole::Stress).verdict, Verdict::Failed);
}

TEST(Compare, NanFailsWhateverTheTolerance) {
  const auto expected = make_f32({1, 2}, {1.0f, 2.0f});
  const auto actual = make_f32({1, 2}, {1.0f, std::numeric_limits<float>::quiet_NaN()});
  const auto c = compare(actual, expected, expected, Tolerance{1e9, 1e9}, ProbeRole::Stress);
  EXPECT_FALSE(c.finite);
  EXPECT_EQ(c.verdict, Verdict::Failed);
}

TEST(Compare, ShapeMismatchIsAnError) {
  const auto a = make_f32({1, 2}, {1, 2});
  const auto b = make_f32({2, 1}, {1, 2});
  EXPECT_THROW(compare(a, b, b, Tolerance{}, ProbeRole::Stress), Error);
  EXPECT_THROW(compare(a, a, b, Tolerance{}, ProbeRole::Stress), Error);
}

}  // namespace
}  // namespace pt2onnx::verify
