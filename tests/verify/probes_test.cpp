#include "verify/probes.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include <gtest/gtest.h>

namespace pt2onnx::verify {
namespace {

TEST(Probes, CoverTheSeedInputAnImageConstantsExtremesAndABatch) {
  const auto probes = make_probes(3, 8, 5);
  ASSERT_EQ(probes.size(), 6u);
  EXPECT_EQ(probes[0].name, "randn(seed=42)");
  EXPECT_EQ(probes[0].role, ProbeRole::Seed);
  EXPECT_EQ(probes[1].name, "image-like");
  EXPECT_EQ(probes[1].role, ProbeRole::Production);
  for (std::size_t i = 2; i < probes.size(); ++i) EXPECT_EQ(probes[i].role, ProbeRole::Stress) << probes[i].name;
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
  EXPECT_EQ(probes[2].name, "zeros");
  EXPECT_EQ(probes[2].input.sum(), 0.0);
  EXPECT_EQ(probes[3].name, "ones");
  EXPECT_EQ(probes[3].input.sum(), 3.0 * 64);
  EXPECT_EQ(probes[4].name, "large(randn*3)");
}

TEST(Probes, SeededNormalHasUnitMomentsAndIsReproducible) {
  const auto a = make_probes(3, 64);
  const auto b = make_probes(3, 64);
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(std::memcmp(a[i].input.bytes().data(), b[i].input.bytes().data(), a[i].input.nbytes()), 0) << a[i].name;
  }
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

// Undoes Normalize and ToTensor: the 8-bit pixel each value came from.
std::vector<double> pixels_of(const Tensor& image, const Normalization& norm, std::int64_t channel) {
  const auto plane = static_cast<std::size_t>(image.dim(2) * image.dim(3));
  const auto k = static_cast<std::size_t>(channel);
  std::vector<double> out;
  for (std::size_t i = 0; i < plane; ++i) {
    out.push_back((double(image.f32()[k * plane + i]) * norm.std[k] + norm.mean[k]) * 255.0);
  }
  return out;
}

TEST(Probes, TheImageLikeProbeIsAnEightBitImageThroughTheModelsNormalisation) {
  const Normalization norm{{0.5f, 0.4f, 0.3f}, {0.25f, 0.2f, 0.3f}};
  const Tensor image = image_like(3, 96, norm, 11);
  ASSERT_EQ(image.shape(), (Shape{1, 3, 96, 96}));
  for (std::int64_t c = 0; c < 3; ++c) {
    const auto pixels = pixels_of(image, norm, c);
    std::set<long> levels;
    double neighbour_step = 0.0;
    for (std::size_t i = 0; i < pixels.size(); ++i) {
      // Whole levels in 0..255, as decoded 8-bit pixels are.
      ASSERT_NEAR(pixels[i], std::round(pixels[i]), 1e-3) << "channel " << c << " pixel " << i;
      ASSERT_GE(std::round(pixels[i]), 0.0);
      ASSERT_LE(std::round(pixels[i]), 255.0);
      levels.insert(std::lround(pixels[i]));
      if (i % 96 != 0) neighbour_step += std::abs(pixels[i] - pixels[i - 1]);
    }
    // Smooth (neighbours a few levels apart on average, unlike noise's ~85)
    // yet varied (many levels in use).
    EXPECT_LT(neighbour_step / (96.0 * 95.0), 6.0) << "channel " << c;
    EXPECT_GT(levels.size(), 60u) << "channel " << c;
  }
  // ImageNet's normalisation by default; another seed gives another image.
  const Tensor imagenet = image_like(3, 96, Normalization{}, 11);
  EXPECT_NE(std::memcmp(imagenet.bytes().data(), image.bytes().data(), image.nbytes()), 0);
  const auto same_pixels = pixels_of(imagenet, Normalization{}, 0);
  EXPECT_NEAR(same_pixels[4000], pixels_of(image, norm, 0)[4000], 1e-3);
  const Tensor other = image_like(3, 96, norm, 12);
  EXPECT_NE(std::memcmp(other.bytes().data(), image.bytes().data(), image.nbytes()), 0);
}

}  // namespace
}  // namespace pt2onnx::verify
