#include "vision/dicom_decoder.h"

#include <gtest/gtest.h>

#include "pt2onnx/error.h"
#include "vision/test_images.h"

namespace pt2onnx::vision {
namespace {

using testing::Bytes;
using testing::DicomWriter;

void expect_error(const Bytes& data, ErrorKind kind, const std::string& needle) {
  try {
    decode_dicom(data, {});
    FAIL() << "expected an error containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(DicomDecoder, ReadsA16BitImageWithWindowAndRescale) {
  DicomWriter w;
  w.image_header(4, 1, 16, 12, false);
  w.text(0x0028, 0x1050, "DS", "100\\2000");  // only the first value counts
  w.text(0x0028, 0x1051, "DS", "21 \\3000");
  w.text(0x0028, 0x1052, "DS", "-10");
  w.text(0x0028, 0x1053, "DS", "1");
  w.pixel_data(testing::le16({99, 109, 110, 119}), true);  // m = 89, 99, 100, 109
  const Image img = decode_dicom(w.finish(), {});
  ASSERT_EQ(img.width, 4);
  ASSERT_EQ(img.height, 1);
  ASSERT_EQ(img.channels, 1);
  EXPECT_EQ(img.pixels, (Bytes{0, 121, 134, 249}));
}

TEST(DicomDecoder, Monochrome1WithoutWindowUsesFullRangeInverted) {
  DicomWriter w;
  w.image_header(3, 1, 16, 16, false, "MONOCHROME1");
  w.pixel_data(testing::le16({0, 500, 1000}), true);
  EXPECT_EQ(decode_dicom(w.finish(), {}).pixels, (Bytes{255, 127, 0}));
}

TEST(DicomDecoder, EightBitRgb) {
  DicomWriter w;
  w.image_header(2, 1, 8, 8, false, "RGB", 3);
  w.pixel_data(Bytes{1, 2, 3, 4, 5, 6}, false);
  const Image img = decode_dicom(w.finish(), {});
  EXPECT_EQ(img.channels, 3);
  EXPECT_EQ(img.pixels, (Bytes{1, 2, 3, 4, 5, 6}));
}

TEST(DicomDecoder, NoPixelDataIsAnError) {
  DicomWriter w;
  w.image_header(2, 2, 16, 16, false);
  expect_error(w.finish(), ErrorKind::BadInput, "no Pixel Data");
}

TEST(DicomDecoder, ShortPixelDataIsAnError) {
  DicomWriter w;
  w.image_header(100, 100, 16, 16, false);
  w.pixel_data(testing::le16({1, 2, 3, 4}), true);
  try {
    decode_dicom(w.finish(), {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput) << e.what();
  }
}

TEST(DicomDecoder, TruncatedFileIsAnError) {
  DicomWriter w;
  w.image_header(64, 64, 16, 16, false);
  w.pixel_data(Bytes(64 * 64 * 2, 7), true);
  Bytes data = w.finish();
  data.resize(data.size() - 3000);
  try {
    decode_dicom(data, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput) << e.what();
  }
}

TEST(DicomDecoder, SizeOverTheLimitIsRejectedBeforeDecoding) {
  DicomWriter w;
  w.image_header(40000, 2, 16, 16, false);
  w.pixel_data(Bytes(16, 0), true);
  expect_error(w.finish(), ErrorKind::BadInput, "exceeds the limit");
}

TEST(DicomDecoder, BadRescaleIsAnError) {
  DicomWriter w;
  w.image_header(1, 1, 16, 16, false);
  w.text(0x0028, 0x1053, "DS", "abc");
  w.pixel_data(testing::le16({1}), true);
  expect_error(w.finish(), ErrorKind::BadInput, "RescaleSlope");
}

TEST(DicomDecoder, PaletteColourIsUnsupported) {
  DicomWriter w;
  w.image_header(2, 1, 8, 8, false, "PALETTE COLOR");
  w.pixel_data(Bytes{0, 1}, false);
  try {
    decode_dicom(w.finish(), {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.kind(), ErrorKind::Internal) << e.what();
  }
}

TEST(DicomDecoder, ParseFirstDecimal) {
  EXPECT_EQ(parse_first_decimal("40\\60 "), 40.0);
  EXPECT_EQ(parse_first_decimal(" -1.5e2 "), -150.0);
  EXPECT_EQ(parse_first_decimal("+3"), 3.0);
  EXPECT_FALSE(parse_first_decimal(""));
  EXPECT_FALSE(parse_first_decimal("\\5"));
  EXPECT_FALSE(parse_first_decimal("1x"));
  EXPECT_FALSE(parse_first_decimal("nan"));
  EXPECT_FALSE(parse_first_decimal("inf"));
}

}  // namespace
}  // namespace pt2onnx::vision
