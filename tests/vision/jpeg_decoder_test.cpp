#include "vision/jpeg_decoder.h"

#include <gtest/gtest.h>

#include "pt2onnx/error.h"
#include "vision/test_images.h"

namespace pt2onnx::vision {
namespace {

using testing::Bytes;

void expect_bad_input(const Bytes& data, const std::string& needle, const ImageLimits& limits = {}) {
  try {
    decode_jpeg(data, limits);
    FAIL() << "expected an error containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(JpegDecoder, RgbKeepsSizeAndIsCloseToTheSource) {
  const Bytes src = testing::gradient(37, 23, 3);
  const Image img = decode_jpeg(testing::encode_jpeg(37, 23, 3, src, 95), {});
  ASSERT_EQ(img.width, 37);
  ASSERT_EQ(img.height, 23);
  ASSERT_EQ(img.channels, 3);
  // Lossy, but at quality 95 the mean error stays within a few levels.
  double total = 0;
  for (std::size_t i = 0; i < src.size(); ++i) total += std::abs(int(img.pixels[i]) - int(src[i]));
  EXPECT_LT(total / static_cast<double>(src.size()), 6.0);
}

TEST(JpegDecoder, GrayscaleGivesOneChannel) {
  const Image img = decode_jpeg(testing::encode_jpeg(8, 5, 1, Bytes(40, 77)), {});
  ASSERT_EQ(img.channels, 1);
  for (auto v : img.pixels) EXPECT_NEAR(v, 77, 1);
}

TEST(JpegDecoder, TruncatedStreamIsAnError) {
  Bytes data = testing::encode_jpeg(64, 64, 3, testing::gradient(64, 64, 3));
  data.resize(data.size() / 2);
  expect_bad_input(data, "truncated");
}

TEST(JpegDecoder, HeaderOnlyIsAnError) {
  Bytes data = testing::encode_jpeg(16, 16, 3, testing::gradient(16, 16, 3));
  data.resize(20);
  expect_bad_input(data, "cannot decode JPEG");
}

TEST(JpegDecoder, GarbageAfterTheMarkerIsAnError) {
  Bytes data{0xff, 0xd8, 0xff, 0xe0};
  const Bytes noise = testing::random_bytes(500, 7);
  data.insert(data.end(), noise.begin(), noise.end());
  expect_bad_input(data, "cannot decode JPEG");
}

TEST(JpegDecoder, DeclaredSizeOverTheLimitIsRejectedBeforeDecoding) {
  Bytes data = testing::encode_jpeg(16, 16, 1, Bytes(256, 1));
  // Patch the SOF0 frame header's height and width to 60000.
  for (std::size_t i = 0; i + 8 < data.size(); ++i) {
    if (data[i] == 0xff && data[i + 1] == 0xc0) {
      data[i + 5] = 0xea;
      data[i + 6] = 0x60;
      data[i + 7] = 0xea;
      data[i + 8] = 0x60;
      break;
    }
  }
  expect_bad_input(data, "exceeds the limit");
  ImageLimits small;
  small.max_side = 8;
  expect_bad_input(testing::encode_jpeg(16, 16, 1, Bytes(256, 1)), "16x16", small);
}

TEST(JpegDecoder, PixelLimitApplies) {
  ImageLimits limits;
  limits.max_pixels = 100;
  expect_bad_input(testing::encode_jpeg(16, 16, 1, Bytes(256, 1)), "256 pixels", limits);
}

}  // namespace
}  // namespace pt2onnx::vision
