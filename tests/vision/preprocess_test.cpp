#include "vision/preprocess.h"

#include <gtest/gtest.h>

#include "pt2onnx/error.h"
#include "vision/preprocess_metadata.h"

namespace pt2onnx::vision {
namespace {

TEST(ResizedSize, ShorterSideFollowsTorchvision) {
  ResizeSpec r;
  r.mode = ResizeSpec::Mode::ShorterSide;
  r.shorter_side = 256;
  // Landscape 640x480: new long = int(256 * 640 / 480) = 341.
  EXPECT_EQ(resized_size(640, 480, r), (Size2{256, 341}));
  // Portrait 480x640.
  EXPECT_EQ(resized_size(480, 640, r), (Size2{341, 256}));
  // Square.
  EXPECT_EQ(resized_size(300, 300, r), (Size2{256, 256}));
  // 224 * 3 / 2 = 336 exactly.
  r.shorter_side = 224;
  EXPECT_EQ(resized_size(3000, 2000, r), (Size2{224, 336}));
}

TEST(ResizedSize, ExactIgnoresTheImage) {
  ResizeSpec r;
  r.size = {100, 50};
  EXPECT_EQ(resized_size(7, 9, r), (Size2{100, 50}));
}

TEST(Preprocess, NormalizesInTorchOrder) {
  PreprocessSpec spec;
  spec.resize.size = {2, 2};
  Image img = make_image(2, 2, 3);
  for (std::size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<std::uint8_t>(40 * i);
  std::vector<float> out(12);
  preprocess_into(img, spec, {2, 2}, out);
  for (int c = 0; c < 3; ++c) {
    for (int p = 0; p < 4; ++p) {
      const float x = static_cast<float>(img.pixels[static_cast<std::size_t>(3 * p + c)]) / 255.0f;
      EXPECT_EQ(out[static_cast<std::size_t>(4 * c + p)], (x - spec.mean[c]) / spec.std[c]);
    }
  }
}

TEST(Preprocess, GrayFillsThreeChannels) {
  PreprocessSpec spec;
  spec.resize.size = {1, 2};
  spec.mean = {0, 0, 0};
  spec.std = {1, 1, 1};
  Image img = make_image(2, 1, 1);
  img.pixels = {0, 255};
  std::vector<float> out(6);
  preprocess_into(img, spec, {1, 2}, out);
  EXPECT_EQ(out, (std::vector<float>{0, 1, 0, 1, 0, 1}));
}

TEST(Preprocess, ResizeThenCrop) {
  PreprocessSpec spec;
  spec.resize.mode = ResizeSpec::Mode::ShorterSide;
  spec.resize.shorter_side = 8;
  spec.crop = Size2{6, 6};
  const Image img = make_image(20, 10, 3);
  const Image out = resize_and_crop(img, spec);
  EXPECT_EQ(out.width, 6);
  EXPECT_EQ(out.height, 6);
  EXPECT_EQ(fixed_output_size(spec), (Size2{6, 6}));
  spec.crop.reset();
  EXPECT_FALSE(fixed_output_size(spec));
}

TEST(Preprocess, WrongSizeNamesBoth) {
  PreprocessSpec spec;
  spec.resize.mode = ResizeSpec::Mode::ShorterSide;
  spec.resize.shorter_side = 4;
  std::vector<float> out(3 * 16);
  try {
    preprocess_into(make_image(8, 4, 1), spec, {4, 4}, out);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
    EXPECT_NE(std::string(e.what()).find("8x4"), std::string::npos) << e.what();
  }
}

TEST(PreprocessMetadata, DefaultsWithoutKeys) {
  const PreprocessSpec spec = preprocess_spec_from_metadata({});
  EXPECT_EQ(spec.resize.mode, ResizeSpec::Mode::Exact);
  EXPECT_EQ(spec.resize.size, (Size2{224, 224}));
  EXPECT_FALSE(spec.crop);
  EXPECT_EQ(spec.interpolation, Interpolation::Bilinear);
  EXPECT_EQ(spec.mean[0], 0.485f);
  EXPECT_EQ(spec.std[2], 0.225f);
}

TEST(PreprocessMetadata, ReadsEveryKey) {
  const PreprocessSpec spec = preprocess_spec_from_metadata({
      {"pt2onnx.input_size", "224x224"},
      {"pt2onnx.preprocess.resize", "256"},
      {"pt2onnx.preprocess.crop", "224x224"},
      {"pt2onnx.preprocess.interpolation", "bicubic"},
      {"pt2onnx.preprocess.mean", "0.5,0.5,0.5"},
      {"pt2onnx.preprocess.std", "0.25, 0.25, 0.25"},
      {"pt2onnx.preprocess.color", "RGB"},
  });
  EXPECT_EQ(spec.resize.mode, ResizeSpec::Mode::ShorterSide);
  EXPECT_EQ(spec.resize.shorter_side, 256);
  EXPECT_EQ(spec.crop, (Size2{224, 224}));
  EXPECT_EQ(spec.interpolation, Interpolation::Bicubic);
  EXPECT_EQ(spec.std[1], 0.25f);
}

TEST(PreprocessMetadata, InputSizeIsTheDefaultResize) {
  const PreprocessSpec spec = preprocess_spec_from_metadata({{"pt2onnx.input_size", "240x320"}});
  EXPECT_EQ(spec.resize.size, (Size2{240, 320}));
}

TEST(PreprocessMetadata, BadValuesNameTheKey) {
  const std::pair<const char*, const char*> bad[] = {
      {"pt2onnx.preprocess.resize", "0"},     {"pt2onnx.preprocess.resize", "224x"},
      {"pt2onnx.preprocess.crop", "abc"},     {"pt2onnx.preprocess.interpolation", "lanczos"},
      {"pt2onnx.preprocess.mean", "0.5,0.5"}, {"pt2onnx.preprocess.std", "1,0,1"},
      {"pt2onnx.preprocess.mean", "1,2,3,4"}, {"pt2onnx.preprocess.resize", "99999"},
  };
  for (const auto& [key, value] : bad) {
    try {
      preprocess_spec_from_metadata({{key, value}});
      FAIL() << key << " = " << value;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::BadInput) << e.what();
      EXPECT_NE(std::string(e.what()).find("model metadata"), std::string::npos) << e.what();
    }
  }
  try {
    preprocess_spec_from_metadata({{"pt2onnx.preprocess.color", "BGR"}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
  }
}

TEST(PreprocessMetadata, CropNoneAndSquare) {
  EXPECT_FALSE(parse_crop("none", ErrorKind::Usage));
  EXPECT_EQ(parse_crop("224", ErrorKind::Usage), (Size2{224, 224}));
}

}  // namespace
}  // namespace pt2onnx::vision
