#include "vision/crop.h"

#include <gtest/gtest.h>

namespace pt2onnx::vision {
namespace {

TEST(CenterCrop, OffsetRoundsHalfToEvenLikePython) {
  // int(round(diff / 2.0)): 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, 3.5 -> 4.
  EXPECT_EQ(center_crop_offset(225, 224), 0);
  EXPECT_EQ(center_crop_offset(227, 224), 2);
  EXPECT_EQ(center_crop_offset(229, 224), 2);
  EXPECT_EQ(center_crop_offset(231, 224), 4);
  EXPECT_EQ(center_crop_offset(256, 224), 16);
  EXPECT_EQ(center_crop_offset(224, 224), 0);
}

Image numbered(int w, int h) {
  Image img = make_image(w, h, 1);
  for (std::size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<std::uint8_t>(i + 1);
  return img;
}

TEST(CenterCrop, CropsTheMiddle) {
  const Image out = center_crop(numbered(5, 4), 3, 2);  // left round(1.0)=1, top round(1.0)=1
  EXPECT_EQ(out.pixels, (std::vector<std::uint8_t>{7, 8, 9, 12, 13, 14}));
}

TEST(CenterCrop, LargerCropPadsWithZeros) {
  // 2x1 into 5x3: pad left (5-2)//2 = 1, right 2; top 1, bottom 1.
  const Image out = center_crop(numbered(2, 1), 5, 3);
  EXPECT_EQ(out.pixels, (std::vector<std::uint8_t>{0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(CenterCrop, PadsOneSideAndCropsTheOther) {
  // 2x5 into 4x3: width padded (1 left, 1 right), height cropped at round(1.0) = 1.
  const Image out = center_crop(numbered(2, 5), 4, 3);
  EXPECT_EQ(out.pixels, (std::vector<std::uint8_t>{0, 3, 4, 0, 0, 5, 6, 0, 0, 7, 8, 0}));
}

TEST(CenterCrop, SameSizeIsACopy) {
  const Image in = numbered(3, 3);
  EXPECT_EQ(center_crop(in, 3, 3).pixels, in.pixels);
}

}  // namespace
}  // namespace pt2onnx::vision
