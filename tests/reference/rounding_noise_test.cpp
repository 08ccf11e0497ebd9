// RoundingNoise: the differently rounded evaluation behind verification's float32 spread.
#include <cmath>
#include <cstring>
#include <limits>

#include <gtest/gtest.h>

#include "reference/reference.h"

namespace pt2onnx::reference {
namespace {

// How many ulps b lies from a (positive: further from zero), for finite non-zero floats of one sign.
long ulps_between(float a, float b) {
  long steps = 0;
  float x = a;
  const float away = std::copysign(std::numeric_limits<float>::infinity(), a);
  const float toward = std::copysign(0.0f, a);
  while (x != b && std::abs(steps) < 100) {
    const bool go_away = std::abs(b) > std::abs(a);
    x = std::nextafter(x, go_away ? away : toward);
    steps += go_away ? 1 : -1;
  }
  return steps;
}

TEST(RoundingNoise, MovesEveryFiniteNonZeroValueByTheGivenUlpsOneWayOrTheOther) {
  Tensor t(DType::Float32, {3, 400});
  auto v = t.f32();
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i % 7 == 0 ? -1.0 : 1.0) * (0.37 + i * 1.3));
  v[410] = 0.0f;
  v[411] = std::numeric_limits<float>::infinity();
  v[412] = std::numeric_limits<float>::quiet_NaN();
  v[413] = 1.0f;  // a power of two: one step down lands in the binade below
  const Tensor before = t;
  add_rounding_noise(t, 1, 3, 99, 5);
  long up = 0, down = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const float a = before.f32()[i], b = v[i];
    if (i < 400) {
      ASSERT_EQ(std::memcmp(&a, &b, sizeof a), 0) << "row 0 is left as it was, element " << i;
    } else if (i == 410 || i == 411) {
      ASSERT_EQ(a, b) << i;
    } else if (i == 412) {
      ASSERT_TRUE(std::isnan(b));
    } else {
      const long steps = ulps_between(a, b);
      ASSERT_TRUE(steps == 3 || steps == -3) << "element " << i << ": " << a << " -> " << b << " is " << steps;
      (steps > 0 ? up : down) += 1;
    }
  }
  // Coin flips: about half each way.
  EXPECT_GT(up, 300);
  EXPECT_GT(down, 300);
}

TEST(RoundingNoise, MovesAllValuesOfOneImageChannelTheSameWay) {
  Tensor t(DType::Float32, {2, 64, 3, 5});
  for (std::size_t i = 0; i < t.f32().size(); ++i) t.f32()[i] = 0.5f + static_cast<float>(i % 13);
  const Tensor before = t;
  add_rounding_noise(t, 0, 1, 4, 0);
  int away = 0;
  for (std::size_t plane = 0; plane < 128; ++plane) {
    const long first = ulps_between(before.f32()[plane * 15], t.f32()[plane * 15]);
    ASSERT_TRUE(first == 1 || first == -1);
    for (std::size_t i = plane * 15; i < plane * 15 + 15; ++i) {
      ASSERT_EQ(ulps_between(before.f32()[i], t.f32()[i]), first) << "plane " << plane << " element " << i;
    }
    away += first > 0 ? 1 : 0;
  }
  EXPECT_GT(away, 40);
  EXPECT_LT(away, 88);
}

TEST(RoundingNoise, RepeatsForASeedAndDiffersAcrossSeedsAndStreams) {
  Tensor base(DType::Float32, {1, 1000});
  for (std::size_t i = 0; i < 1000; ++i) base.f32()[i] = 1.0f + static_cast<float>(i);
  auto noisy = [&](std::uint64_t seed, std::uint64_t stream) {
    Tensor t = base;
    add_rounding_noise(t, 0, 1, seed, stream);
    return t;
  };
  const auto same = [](const Tensor& a, const Tensor& b) {
    return std::memcmp(a.bytes().data(), b.bytes().data(), a.nbytes()) == 0;
  };
  EXPECT_TRUE(same(noisy(1, 2), noisy(1, 2)));
  EXPECT_FALSE(same(noisy(1, 2), noisy(3, 2)));
  EXPECT_FALSE(same(noisy(1, 2), noisy(1, 4)));
}

}  // namespace
}  // namespace pt2onnx::reference
