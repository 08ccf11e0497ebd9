#include "vision/dicom_pixels.h"

#include <gtest/gtest.h>

#include "pt2onnx/error.h"
#include "vision/test_images.h"

namespace pt2onnx::vision {
namespace {

using testing::Bytes;

DicomFrame gray16(int width, int height, const Bytes& data) {
  DicomFrame f;
  f.width = width;
  f.height = height;
  f.data = data;
  return f;
}

TEST(DicomPixels, FullRangeMapsMinToZeroAndMaxTo255) {
  const Bytes data = testing::le16({100, 200, 300, 1100});
  const Image img = dicom_frame_to_image(gray16(4, 1, data));
  // t = (x - 100) / 1000; v = floor(255 t + 0.5)
  EXPECT_EQ(img.pixels, (Bytes{0, 26, 51, 255}));
}

TEST(DicomPixels, Monochrome1IsInvertedAfterMapping) {
  const Bytes data = testing::le16({100, 200, 300, 1100});
  DicomFrame f = gray16(4, 1, data);
  f.photometric = Photometric::Monochrome1;
  EXPECT_EQ(dicom_frame_to_image(f).pixels, (Bytes{255, 229, 204, 0}));
}

TEST(DicomPixels, LinearWindowFollowsDicom) {
  // c = 100, w = 21: lo = 89.5, hi = 109.5.
  const Bytes data = testing::le16({0, 89, 90, 99, 100, 109, 110, 4000});
  DicomFrame f = gray16(8, 1, data);
  f.window = VoiWindow{100, 21, VoiFunction::Linear};
  EXPECT_EQ(dicom_frame_to_image(f).pixels, (Bytes{0, 0, 6, 121, 134, 249, 255, 255}));
}

TEST(DicomPixels, LinearExactWindow) {
  const Bytes data = testing::le16({90, 95, 100, 110});
  DicomFrame f = gray16(4, 1, data);
  f.window = VoiWindow{100, 20, VoiFunction::LinearExact};  // lo 90, hi 110
  EXPECT_EQ(dicom_frame_to_image(f).pixels, (Bytes{0, 64, 128, 255}));
}

TEST(DicomPixels, SigmoidWindow) {
  const Bytes data = testing::le16({0, 100, 10000});
  DicomFrame f = gray16(3, 1, data);
  f.window = VoiWindow{100, 50, VoiFunction::Sigmoid};
  EXPECT_EQ(dicom_frame_to_image(f).pixels, (Bytes{0, 128, 255}));
}

TEST(DicomPixels, InvalidWindowFallsBackToFullRange) {
  const Bytes data = testing::le16({10, 20});
  DicomFrame f = gray16(2, 1, data);
  f.window = VoiWindow{15, 0.5, VoiFunction::Linear};  // LINEAR needs w >= 1
  EXPECT_EQ(dicom_frame_to_image(f).pixels, (Bytes{0, 255}));
}

TEST(DicomPixels, RescaleIsAppliedBeforeTheWindow) {
  const Bytes data = testing::le16({0, 10, 20});
  DicomFrame f = gray16(3, 1, data);
  f.rescale_slope = 2.0;
  f.rescale_intercept = -1000.0;                          // m = -1000, -980, -960
  f.window = VoiWindow{-980.5, 41, VoiFunction::Linear};  // lo -1001, hi -961
  EXPECT_EQ(dicom_frame_to_image(f).pixels, (Bytes{6, 134, 255}));
}

TEST(DicomPixels, NegativeSlopeReversesTheFullRange) {
  const Bytes data = testing::le16({0, 50, 100});
  DicomFrame f = gray16(3, 1, data);
  f.rescale_slope = -1.0;
  EXPECT_EQ(dicom_frame_to_image(f).pixels, (Bytes{255, 128, 0}));
}

TEST(DicomPixels, SignedSamplesAreSignExtendedFromBitsStored) {
  // 12 stored bits: 0xfff is -1, 0x800 is -2048, 0x7ff is 2047; high bits are ignored.
  const Bytes data = testing::le16({0xf800, 0x0fff, 0x07ff});
  DicomFrame f = gray16(3, 1, data);
  f.bits_stored = 12;
  f.is_signed = true;
  // -1 is 2047 / 4095 of the way from -2048 to 2047: 127.47 -> 127.
  EXPECT_EQ(dicom_frame_to_image(f).pixels, (Bytes{0, 127, 255}));
}

TEST(DicomPixels, UnsignedSamplesAreMaskedToBitsStored) {
  const Bytes data = testing::le16({0xf000, 0x0fff});  // 12 bits: 0 and 4095
  DicomFrame f = gray16(2, 1, data);
  f.bits_stored = 12;
  EXPECT_EQ(dicom_frame_to_image(f).pixels, (Bytes{0, 255}));
}

TEST(DicomPixels, ConstantImageIsBlack) {
  const Bytes data = testing::le16({7, 7, 7});
  EXPECT_EQ(dicom_frame_to_image(gray16(3, 1, data)).pixels, (Bytes{0, 0, 0}));
}

TEST(DicomPixels, EightBitRgbPlanarAndInterleaved) {
  const Bytes interleaved{1, 2, 3, 4, 5, 6};
  DicomFrame f;
  f.width = 2;
  f.height = 1;
  f.samples_per_pixel = 3;
  f.bits_allocated = 8;
  f.bits_stored = 8;
  f.photometric = Photometric::Rgb;
  f.data = interleaved;
  EXPECT_EQ(dicom_frame_to_image(f).pixels, interleaved);
  const Bytes planar{1, 4, 2, 5, 3, 6};
  f.planar = true;
  f.data = planar;
  EXPECT_EQ(dicom_frame_to_image(f).pixels, interleaved);
}

TEST(DicomPixels, ShortDataIsAnError) {
  const Bytes data = testing::le16({1, 2, 3});
  try {
    dicom_frame_to_image(gray16(2, 2, data));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
  }
}

TEST(DicomPixels, SixteenBitColourIsUnsupported) {
  const Bytes data(12, 0);
  DicomFrame f = gray16(2, 1, data);
  f.samples_per_pixel = 3;
  f.photometric = Photometric::Rgb;
  try {
    dicom_frame_to_image(f);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
  }
}

}  // namespace
}  // namespace pt2onnx::vision
