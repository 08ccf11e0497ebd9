// RoundingNoise: the differently rounded evaluation behind verification's float32 spread.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include <gtest/gtest.h>

#include "models/registry.h"
#include "nn/bind.h"
#include "reference/reference.h"
#include "support/fake_state.h"

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
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<float>((i % 7 == 0 ? -1.0 : 1.0) * (0.37 + static_cast<double>(i) * 1.3));
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
      // Bit for bit, on purpose (-0 against 0 would differ too).
      // NOLINTNEXTLINE(bugprone-suspicious-memory-comparison)
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

// A token sequence [N, L, D]: one feature of one image is a channel, moved
// the same way in every token; rows before first_row stay; an image keyed by
// its place in the whole batch (row_base) moves as it does there.
TEST(RoundingNoise, MovesOneFeatureOfAllOfAnImagesTokensTheSameWay) {
  const std::int64_t n = 3, length = 7, width = 64;
  Tensor t(DType::Float32, {n, length, width});
  for (std::size_t i = 0; i < t.f32().size(); ++i) t.f32()[i] = 0.5f + static_cast<float>(i % 11);
  const Tensor before = t;
  add_rounding_noise(t, 1, 2, 8, 3);
  const auto at = [&](std::int64_t b, std::int64_t l, std::int64_t c) {
    return static_cast<std::size_t>((b * length + l) * width + c);
  };
  int away = 0;
  for (std::int64_t c = 0; c < width; ++c) {
    EXPECT_EQ(before.f32()[at(0, 0, c)], t.f32()[at(0, 0, c)]);
    for (std::int64_t b = 1; b < n; ++b) {
      const long first = ulps_between(before.f32()[at(b, 0, c)], t.f32()[at(b, 0, c)]);
      ASSERT_TRUE(first == 2 || first == -2);
      for (std::int64_t l = 1; l < length; ++l) {
        ASSERT_EQ(ulps_between(before.f32()[at(b, l, c)], t.f32()[at(b, l, c)]), first) << b << " " << l << " " << c;
      }
      away += first > 0 ? 1 : 0;
    }
  }
  EXPECT_GT(away, 32);
  EXPECT_LT(away, 96);
  // Image 2 alone, as row 2 of the batch, moves as it did in the batch.
  Tensor alone(DType::Float32, {1, length, width});
  std::copy(before.f32().begin() + static_cast<std::ptrdiff_t>(at(2, 0, 0)), before.f32().end(), alone.f32().begin());
  add_rounding_noise(alone, 0, 2, 8, 3, 2);
  EXPECT_TRUE(
      std::equal(alone.f32().begin(), alone.f32().end(), t.f32().begin() + static_cast<std::ptrdiff_t>(at(2, 0, 0))));
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

// A batch runs image by image, a single image layer by layer (each layer split
// across the cores); an image's result, noise included, is the same bits either
// way and whatever else is in the batch.
TEST(RoundingNoise, AnImagesResultDoesNotDependOnHowTheBatchRuns) {
  nn::LayerGraph g = models::build("resnet18", {3, 0.0});
  nn::bind(g, testing::fake_state(g));
  Tensor batch(DType::Float32, {3, 3, 40, 40});
  for (std::size_t i = 0; i < batch.f32().size(); ++i) batch.f32()[i] = std::sin(0.37f * static_cast<float>(i));
  const std::size_t image_bytes = batch.nbytes() / 3;
  const auto image = [&](std::size_t r) {
    Tensor t(DType::Float32, {1, 3, 40, 40});
    std::memcpy(t.bytes().data(), batch.bytes().data() + r * image_bytes, image_bytes);
    return t;
  };
  const auto row = [](const Tensor& t, std::size_t r) {
    return std::vector<float>(t.f32().begin() + 3 * r, t.f32().begin() + 3 * r + 3);
  };
  const RoundingNoise from_row_1{21, 1};
  const Tensor all = forward(g, batch, &from_row_1);
  EXPECT_EQ(row(all, 0), row(forward(g, image(0)), 0)) << "a row before first_row is the plain result";
  EXPECT_NE(row(all, 1), row(forward(g, image(1)), 0)) << "the noise moved row 1";
  Tensor first_two(DType::Float32, {2, 3, 40, 40});
  std::memcpy(first_two.bytes().data(), batch.bytes().data(), 2 * image_bytes);
  EXPECT_EQ(row(forward(g, first_two, &from_row_1), 1), row(all, 1));
  const RoundingNoise from_row_0{21, 0};
  Tensor pair(DType::Float32, {2, 3, 40, 40});
  std::memcpy(pair.bytes().data(), batch.bytes().data(), image_bytes);
  std::memcpy(pair.bytes().data() + image_bytes, batch.bytes().data() + 2 * image_bytes, image_bytes);
  EXPECT_EQ(row(forward(g, image(0), &from_row_0), 0), row(forward(g, pair, &from_row_0), 0));
}

}  // namespace
}  // namespace pt2onnx::reference
