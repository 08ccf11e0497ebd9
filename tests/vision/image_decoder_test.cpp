#include "vision/image_decoder.h"

#include <gtest/gtest.h>

#include "pt2onnx/error.h"
#include "vision/test_images.h"

namespace pt2onnx::vision {
namespace {

using testing::Bytes;

Error load_error(const std::filesystem::path& path) {
  try {
    load_image(path, {});
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error for " << path;
  return Error(ErrorKind::Internal, "none");
}

TEST(ImageDecoder, SniffsByContentNotName) {
  EXPECT_EQ(sniff_image_format(testing::encode_jpeg(2, 2, 1, Bytes(4, 0))), ImageFormat::Jpeg);
  EXPECT_EQ(sniff_image_format(testing::encode_png(1, 1, 0, 8, Bytes{0})), ImageFormat::Png);
  testing::DicomWriter w;
  w.image_header(1, 1, 8, 8, false);
  EXPECT_EQ(sniff_image_format(w.finish()), ImageFormat::Dicom);
  EXPECT_EQ(sniff_image_format(Bytes{'h', 'i'}), ImageFormat::Unknown);
  EXPECT_EQ(sniff_image_format(Bytes{}), ImageFormat::Unknown);
}

TEST(ImageDecoder, DecodesEachFormatWhateverTheExtension) {
  testing::TempDir dir("pt2onnx-decoder");
  testing::write_file(dir / "really_a_png.jpg", testing::encode_png(2, 1, 0, 8, Bytes{9, 99}));
  const Image img = load_image(dir / "really_a_png.jpg", {});
  EXPECT_EQ(img.pixels, (Bytes{9, 99}));
}

TEST(ImageDecoder, ErrorsNameTheFile) {
  testing::TempDir dir("pt2onnx-decoder");
  testing::write_file(dir / "empty.png", {});
  testing::write_text(dir / "text.png", "hello, I am not an image\n");
  Bytes jpeg = testing::encode_jpeg(32, 32, 3, testing::gradient(32, 32, 3));
  jpeg.resize(jpeg.size() / 3);
  testing::write_file(dir / "cut.jpg", jpeg);

  const Error empty = load_error(dir / "empty.png");
  EXPECT_EQ(empty.kind(), ErrorKind::BadInput);
  EXPECT_NE(std::string(empty.what()).find("empty.png: file is empty"), std::string::npos) << empty.what();

  const Error text = load_error(dir / "text.png");
  EXPECT_EQ(text.kind(), ErrorKind::BadInput);
  EXPECT_NE(std::string(text.what()).find("not a JPEG, PNG or DICOM file (it starts with 68 65 6c 6c"),
            std::string::npos)
      << text.what();

  const Error cut = load_error(dir / "cut.jpg");
  EXPECT_EQ(cut.kind(), ErrorKind::BadInput);
  EXPECT_NE(std::string(cut.what()).find("cut.jpg"), std::string::npos) << cut.what();

  const Error missing = load_error(dir / "missing.png");
  EXPECT_EQ(missing.kind(), ErrorKind::Io);
  EXPECT_NE(std::string(missing.what()).find("missing.png"), std::string::npos) << missing.what();
}

TEST(ImageDecoder, FileSizeLimit) {
  testing::TempDir dir("pt2onnx-decoder");
  testing::write_file(dir / "a.png", testing::encode_png(2, 1, 0, 8, Bytes{9, 99}));
  ImageLimits limits;
  limits.max_file_bytes = 10;
  try {
    load_image(dir / "a.png", limits);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
  }
}

TEST(ImageDecoder, ImageSizeChecks) {
  ImageLimits limits;
  EXPECT_NO_THROW(check_image_size(32768, 8192, limits));
  EXPECT_THROW(check_image_size(32769, 1, limits), Error);
  EXPECT_THROW(check_image_size(0, 5, limits), Error);
  EXPECT_THROW(check_image_size(32768, 32768, limits), Error);  // 2^30 pixels > 2^28
}

}  // namespace
}  // namespace pt2onnx::vision
