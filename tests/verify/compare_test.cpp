#include "verify/compare.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "common/error.h"

namespace pt2onnx::verify {
namespace {

TEST(Compare, ReportsAbsoluteRelativeAndSigmoidDifferences) {
  const auto expected = make_f32({1, 3}, {200.0f, -2.0f, 0.0f});
  const auto actual = make_f32({1, 3}, {200.005f, -2.5f, 0.0f});
  const auto c = compare(actual, expected, Tolerance{1e-2, 0.0});
  EXPECT_NEAR(c.max_abs_diff, 0.5, 1e-6);
  EXPECT_NEAR(c.max_rel_diff, 0.25, 1e-6);
  // sigmoid(-2) - sigmoid(-2.5) = 0.119203 - 0.075858
  EXPECT_NEAR(c.max_sigmoid_diff, 0.0433447, 1e-6);
  EXPECT_FALSE(c.within_tolerance);
  EXPECT_TRUE(c.finite);
}

TEST(Compare, RelativeToleranceScalesWithTheLargestReferenceLogit) {
  const auto expected = make_f32({1, 2}, {1000.0f, 1.0f});
  const auto actual = make_f32({1, 2}, {1000.5f, 1.0f});
  EXPECT_FALSE(compare(actual, expected, Tolerance{1e-2, 0.0}).within_tolerance);
  EXPECT_TRUE(compare(actual, expected, Tolerance{1e-2, 1e-3}).within_tolerance);
  // The small logit beside the large one is judged on the probe's scale too...
  const auto small_off = make_f32({1, 2}, {1000.0f, 1.5f});
  EXPECT_TRUE(compare(small_off, expected, Tolerance{1e-2, 1e-3}).within_tolerance);
  // ...but not beyond it.
  const auto too_far = make_f32({1, 2}, {1000.0f, 2.5f});
  EXPECT_FALSE(compare(too_far, expected, Tolerance{1e-2, 1e-3}).within_tolerance);
}

TEST(Compare, NanFailsWhateverTheTolerance) {
  const auto expected = make_f32({1, 2}, {1.0f, 2.0f});
  const auto actual = make_f32({1, 2}, {1.0f, std::numeric_limits<float>::quiet_NaN()});
  const auto c = compare(actual, expected, Tolerance{1e9, 1e9});
  EXPECT_FALSE(c.finite);
  EXPECT_FALSE(c.within_tolerance);
}

TEST(Compare, ShapeMismatchIsAnError) {
  EXPECT_THROW(compare(make_f32({1, 2}, {1, 2}), make_f32({2, 1}, {1, 2}), Tolerance{}), Error);
}

}  // namespace
}  // namespace pt2onnx::verify
