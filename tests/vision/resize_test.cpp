#include "vision/resize.h"

#include <cmath>

#include <gtest/gtest.h>

#include "vision/test_images.h"

namespace pt2onnx::vision {
namespace {

Image make(int w, int h, int c, const testing::Bytes& pixels) {
  Image img = make_image(w, h, c);
  img.pixels.assign(pixels.begin(), pixels.end());
  return img;
}

// Plain double-precision separable convolution with PIL's filters and
// support, rounded once at the end: the fixed-point kernels must stay within
// one level of it (they round after each pass and use 22-bit weights).
double filter(Interpolation interp, double x) {
  x = std::fabs(x);
  if (interp == Interpolation::Bilinear) return x < 1 ? 1 - x : 0;
  const double a = -0.5;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

std::vector<std::vector<double>> weights(int in, int out, Interpolation interp) {
  const double scale = double(in) / out;
  const double fs = std::max(scale, 1.0);
  const double support = (interp == Interpolation::Bicubic ? 2.0 : 1.0) * fs;
  std::vector<std::vector<double>> w(static_cast<std::size_t>(out), std::vector<double>(static_cast<std::size_t>(in)));
  for (int o = 0; o < out; ++o) {
    const double center = (o + 0.5) * scale;
    double sum = 0;
    for (int i = 0; i < in; ++i) {
      const int lo = std::max(0, static_cast<int>(std::floor(center - support + 0.5)));
      const int hi = std::min(in, static_cast<int>(std::floor(center + support + 0.5)));
      if (i < lo || i >= hi) continue;
      const double v = filter(interp, (i - center + 0.5) / fs);
      w[o][i] = v;
      sum += v;
    }
    for (auto& v : w[o]) v /= sum;
  }
  return w;
}

std::uint8_t round8(double v) { return static_cast<std::uint8_t>(std::clamp(std::floor(v + 0.5), 0.0, 255.0)); }

// Two passes like PIL (horizontal first, 8-bit rounding and clamping in
// between) but with exact double weights.
Image reference_resize(const Image& in, int ow, int oh, Interpolation interp) {
  const auto wx = weights(in.width, ow, interp);
  const auto wy = weights(in.height, oh, interp);
  Image mid = make_image(ow, in.height, in.channels);
  for (int y = 0; y < in.height; ++y) {
    for (int x = 0; x < ow; ++x) {
      for (int c = 0; c < in.channels; ++c) {
        double s = 0;
        for (int ix = 0; ix < in.width; ++ix) s += wx[x][ix] * in.row(y)[ix * in.channels + c];
        mid.row(y)[x * in.channels + c] = round8(s);
      }
    }
  }
  Image out = make_image(ow, oh, in.channels);
  for (int y = 0; y < oh; ++y) {
    for (int x = 0; x < ow * in.channels; ++x) {
      double s = 0;
      for (int iy = 0; iy < in.height; ++iy) s += wy[y][iy] * mid.row(iy)[x];
      out.row(y)[x] = round8(s);
    }
  }
  return out;
}

TEST(Resize, SameSizeIsACopy) {
  const Image in = make(3, 2, 1, {1, 2, 3, 4, 5, 6});
  for (auto interp : {Interpolation::Nearest, Interpolation::Bilinear, Interpolation::Bicubic}) {
    EXPECT_EQ(resize(in, 3, 2, interp).pixels, in.pixels);
  }
}

TEST(Resize, HandComputedBilinearDownscale) {
  // 4 -> 2: output 0 has center 1.0 and support 2: inputs 0..2 with weights
  // 0.75, 0.75, 0.25 (normalised 3/7, 3/7, 1/7): (0*3 + 100*3 + 200) / 7 = 71.4.
  const Image in = make(4, 1, 1, {0, 100, 200, 250});
  const Image out = resize(in, 2, 1, Interpolation::Bilinear);
  ASSERT_EQ(out.width, 2);
  EXPECT_EQ(out.pixels[0], 71);
}

TEST(Resize, OnePixelImagesStayConstant) {
  const Image dot = make(1, 1, 3, {10, 200, 77});
  for (auto interp : {Interpolation::Nearest, Interpolation::Bilinear, Interpolation::Bicubic}) {
    const Image big = resize(dot, 5, 3, interp);
    for (int i = 0; i < 15; ++i) {
      EXPECT_EQ(big.pixels[3 * i], 10);
      EXPECT_EQ(big.pixels[3 * i + 1], 200);
      EXPECT_EQ(big.pixels[3 * i + 2], 77);
    }
  }
  const Image in = make(7, 5, 1, testing::Bytes(35, 42));
  for (auto interp : {Interpolation::Nearest, Interpolation::Bilinear, Interpolation::Bicubic}) {
    EXPECT_EQ(resize(in, 1, 1, interp).pixels, testing::Bytes{42});
  }
}

TEST(Resize, ConvolutionIsWithinOneLevelOfDoubleWeights) {
  struct Case {
    int w, h, ow, oh;
  };
  const Case cases[] = {{37, 23, 224, 224}, {300, 200, 224, 149}, {17, 41, 5, 7}, {64, 64, 63, 65}, {9, 1, 20, 1}};
  for (const auto& c : cases) {
    const Image in = make(c.w, c.h, 3, testing::random_bytes(static_cast<std::size_t>(c.w * c.h * 3), 11));
    for (auto interp : {Interpolation::Bilinear, Interpolation::Bicubic}) {
      const Image ours = resize(in, c.ow, c.oh, interp);
      const Image ref = reference_resize(in, c.ow, c.oh, interp);
      int worst = 0;
      for (std::size_t i = 0; i < ours.pixels.size(); ++i) {
        worst = std::max(worst, std::abs(int(ours.pixels[i]) - int(ref.pixels[i])));
      }
      // The 22-bit weights can move a rounding by one level in each pass;
      // the oracle test checks equality with PIL itself.
      EXPECT_LE(worst, 1) << c.w << "x" << c.h << " -> " << c.ow << "x" << c.oh << " " << interpolation_name(interp);
    }
  }
}

TEST(Resize, NearestPicksPixelCentres) {
  const Image in = make(4, 1, 1, {0, 1, 2, 3});
  EXPECT_EQ(resize(in, 2, 1, Interpolation::Nearest).pixels, (testing::Bytes{1, 3}));
  EXPECT_EQ(resize(in, 8, 1, Interpolation::Nearest).pixels, (testing::Bytes{0, 0, 1, 1, 2, 2, 3, 3}));
  EXPECT_EQ(resize(in, 3, 1, Interpolation::Nearest).pixels, (testing::Bytes{0, 2, 3}));
}

TEST(Resize, GrayAndRgbAgreeChannelByChannel) {
  const testing::Bytes gray = testing::random_bytes(13 * 9, 5);
  testing::Bytes rgb;
  for (auto v : gray) rgb.insert(rgb.end(), {v, v, v});
  const Image g = resize(make(13, 9, 1, gray), 6, 20, Interpolation::Bicubic);
  const Image c = resize(make(13, 9, 3, rgb), 6, 20, Interpolation::Bicubic);
  for (std::size_t i = 0; i < g.pixels.size(); ++i) ASSERT_EQ(c.pixels[3 * i + 1], g.pixels[i]);
}

TEST(Resize, InterpolationNames) {
  EXPECT_EQ(interpolation_from_name("bicubic"), Interpolation::Bicubic);
  EXPECT_EQ(interpolation_name(Interpolation::Nearest), "nearest");
  EXPECT_FALSE(interpolation_from_name("lanczos"));
}

}  // namespace
}  // namespace pt2onnx::vision
