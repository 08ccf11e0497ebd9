// Every decoder on many mutated files: any outcome but a crash is fine (the
// fuzz found GDCM's parser aborting the process; this keeps that fixed).
#include <random>

#include <gtest/gtest.h>

#include "pt2onnx/error.h"
#include "vision/image_decoder.h"
#include "vision/test_images.h"

namespace pt2onnx::vision {
namespace {

using testing::Bytes;

std::vector<Bytes> seeds() {
  std::vector<Bytes> out;
  out.push_back(testing::encode_png(13, 7, SPNG_COLOR_TYPE_TRUECOLOR, 8, testing::random_bytes(13 * 7 * 3, 1)));
  out.push_back(testing::encode_png(5, 9, SPNG_COLOR_TYPE_GRAYSCALE, 16, testing::random_bytes(5 * 9 * 2, 2)));
  out.push_back(testing::encode_jpeg(24, 16, 3, testing::gradient(24, 16, 3)));
  testing::DicomWriter native;
  native.image_header(6, 5, 16, 12, false);
  native.text(0x0028, 0x1050, "DS", "100");
  native.text(0x0028, 0x1051, "DS", "50");
  native.pixel_data(testing::random_bytes(60, 3), true);
  out.push_back(native.finish());
  return out;
}

TEST(DecoderMutation, MutatedFilesNeverCrash) {
  std::mt19937 rng(1234);
  ImageLimits limits;
  limits.max_pixels = 1 << 20;  // keep mutated sizes cheap
  int decoded = 0;
  int rejected = 0;
  for (const Bytes& seed : seeds()) {
    for (int i = 0; i < 150; ++i) {
      Bytes data = seed;
      switch (i % 3) {
        case 0:  // a few random bytes
          for (unsigned n = rng() % 8 + 1; n > 0; --n) data[rng() % data.size()] = static_cast<std::uint8_t>(rng());
          break;
        case 1:  // truncation
          data.resize(rng() % data.size());
          break;
        default:  // a run of 0xff (lengths become huge)
          for (std::size_t p = rng() % data.size(), n = 0; n < 6 && p < data.size(); ++n, ++p) data[p] = 0xff;
          break;
      }
      try {
        decode_image(data, limits);
        ++decoded;
      } catch (const Error&) {
        ++rejected;
      }
    }
  }
  EXPECT_GT(rejected, 0);
  EXPECT_EQ(decoded + rejected, 600);
}

}  // namespace
}  // namespace pt2onnx::vision
