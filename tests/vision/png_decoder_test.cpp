#include "vision/png_decoder.h"

#include <gtest/gtest.h>

#include "pt2onnx/error.h"
#include "vision/test_images.h"

namespace pt2onnx::vision {
namespace {

using testing::Bytes;

void expect_bad_input(const Bytes& data, const std::string& needle) {
  try {
    decode_png(data, {});
    FAIL() << "expected an error containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(PngDecoder, Gray8IsExact) {
  const Bytes src = testing::random_bytes(7 * 5, 1);
  const Image img = decode_png(testing::encode_png(7, 5, SPNG_COLOR_TYPE_GRAYSCALE, 8, src), {});
  EXPECT_EQ(img.channels, 1);
  EXPECT_EQ(img.pixels, src);
}

TEST(PngDecoder, RgbAndInterlacedRgbAreExact) {
  const Bytes src = testing::random_bytes(9 * 11 * 3, 2);
  for (bool interlaced : {false, true}) {
    const Image img = decode_png(testing::encode_png(9, 11, SPNG_COLOR_TYPE_TRUECOLOR, 8, src, {}, interlaced), {});
    EXPECT_EQ(img.channels, 3);
    EXPECT_EQ(img.pixels, src) << "interlaced " << interlaced;
  }
}

TEST(PngDecoder, AlphaIsDroppedNotComposited) {
  const Bytes rgba{10, 20, 30, 0, 200, 100, 50, 128};
  const Image img = decode_png(testing::encode_png(2, 1, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 8, rgba), {});
  EXPECT_EQ(img.pixels, (Bytes{10, 20, 30, 200, 100, 50}));
  const Bytes ga{40, 0, 250, 255};
  const Image gray = decode_png(testing::encode_png(2, 1, SPNG_COLOR_TYPE_GRAYSCALE_ALPHA, 8, ga), {});
  EXPECT_EQ(gray.channels, 1);
  EXPECT_EQ(gray.pixels, (Bytes{40, 250}));
}

TEST(PngDecoder, PaletteIsExpanded) {
  const std::vector<std::array<std::uint8_t, 3>> palette{{1, 2, 3}, {250, 128, 7}};
  const Image img = decode_png(testing::encode_png(3, 1, SPNG_COLOR_TYPE_INDEXED, 8, Bytes{1, 0, 1}, palette), {});
  EXPECT_EQ(img.pixels, (Bytes{250, 128, 7, 1, 2, 3, 250, 128, 7}));
}

TEST(PngDecoder, LowBitDepthGrayScalesLikePil) {
  // 2-bit: PIL's "L;2" maps 0..3 to 0, 85, 170, 255. One row, packed MSB first.
  const Image two = decode_png(testing::encode_png(4, 1, SPNG_COLOR_TYPE_GRAYSCALE, 2, Bytes{0b00011011}), {});
  EXPECT_EQ(two.pixels, (Bytes{0, 85, 170, 255}));
  const Image one = decode_png(testing::encode_png(3, 1, SPNG_COLOR_TYPE_GRAYSCALE, 1, Bytes{0b10100000}), {});
  EXPECT_EQ(one.pixels, (Bytes{255, 0, 255}));
}

TEST(PngDecoder, Gray16ClipsLikePilConvertRgb) {
  // Host-endian 16-bit samples: 0, 200, 255, 256, 65535.
  const Bytes src = testing::le16({0, 200, 255, 256, 65535});
  const Image img = decode_png(testing::encode_png(5, 1, SPNG_COLOR_TYPE_GRAYSCALE, 16, src), {});
  EXPECT_EQ(img.pixels, (Bytes{0, 200, 255, 255, 255}));
}

TEST(PngDecoder, Rgb16KeepsTheHighByte) {
  const Bytes src = testing::le16({0x1234, 0xff00, 0x00ff});
  const Image img = decode_png(testing::encode_png(1, 1, SPNG_COLOR_TYPE_TRUECOLOR, 16, src), {});
  EXPECT_EQ(img.pixels, (Bytes{0x12, 0xff, 0x00}));
}

TEST(PngDecoder, TruncatedFileIsAnError) {
  Bytes data = testing::encode_png(32, 32, SPNG_COLOR_TYPE_TRUECOLOR, 8, testing::random_bytes(32 * 32 * 3, 3));
  data.resize(data.size() - 40);
  expect_bad_input(data, "cannot decode PNG");
}

TEST(PngDecoder, SignatureOnlyIsAnError) {
  expect_bad_input(Bytes{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, "cannot decode PNG");
}

TEST(PngDecoder, HugeDeclaredSizeIsRejected) {
  Bytes data = testing::encode_png(4, 4, SPNG_COLOR_TYPE_GRAYSCALE, 8, Bytes(16, 0));
  // IHDR data starts at byte 16: width (4 bytes), height (4 bytes); its CRC follows the 13 data bytes.
  const std::uint32_t big = 1u << 20;
  for (int i = 0; i < 4; ++i) data[16 + i] = static_cast<std::uint8_t>(big >> (24 - 8 * i));
  const std::uint32_t crc = testing::png_crc(data.data() + 12, 17);
  for (int i = 0; i < 4; ++i) data[29 + i] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
  expect_bad_input(data, "PNG");
}

}  // namespace
}  // namespace pt2onnx::vision
