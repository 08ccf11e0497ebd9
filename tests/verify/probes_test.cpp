#include "verify/probes.h"

#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

namespace pt2onnx::verify {
namespace {

TEST(Probes, CoverTheSeedInputConstantsRangeExtremesAndABatch) {
  const auto probes = make_probes(3, 8, 5);
  ASSERT_EQ(probes.size(), 6u);
  EXPECT_EQ(probes[0].name, "randn(seed=42)");
  for (std::size_t i = 0; i + 1 < probes.size(); ++i) EXPECT_EQ(probes[i].input.shape(), (Shape{1, 3, 8, 8}));
  EXPECT_EQ(probes.back().input.shape(), (Shape{5, 3, 8, 8}));
  // The batch is the single-image probes, in order, cycling; rows names them.
  ASSERT_EQ(probes.back().rows, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
  const std::size_t row_bytes = probes[0].input.nbytes();
  for (std::size_t r = 0; r < 5; ++r) {
    EXPECT_EQ(
        std::memcmp(probes.back().input.bytes().data() + r * row_bytes, probes[r].input.bytes().data(), row_bytes), 0)
        << "row " << r;
  }
  const auto seven = make_probes(3, 8, 7);
  EXPECT_EQ(seven.back().rows, (std::vector<std::size_t>{0, 1, 2, 3, 4, 0, 1}));
  EXPECT_EQ(probes[1].input.sum(), 0.0);
  EXPECT_EQ(probes[2].input.sum(), 3.0 * 64);
  for (float v : probes[3].input.f32()) {
    EXPECT_GE(v, 0.0f);
    EXPECT_LT(v, 1.0f);
  }
}

TEST(Probes, SeededNormalHasUnitMomentsAndIsReproducible) {
  const auto a = make_probes(3, 64);
  const auto b = make_probes(3, 64);
  ASSERT_EQ(std::memcmp(a[0].input.bytes().data(), b[0].input.bytes().data(), a[0].input.nbytes()), 0);
  double sum = 0.0;
  double sq = 0.0;
  for (float v : a[0].input.f32()) {
    sum += v;
    sq += double(v) * v;
  }
  const double n = static_cast<double>(a[0].input.numel());
  EXPECT_NEAR(sum / n, 0.0, 0.05);
  EXPECT_NEAR(sq / n, 1.0, 0.05);
  double large_sq = 0.0;
  for (float v : a[4].input.f32()) large_sq += double(v) * v;
  EXPECT_NEAR(std::sqrt(large_sq / n), 3.0, 0.15);
}

}  // namespace
}  // namespace pt2onnx::verify
