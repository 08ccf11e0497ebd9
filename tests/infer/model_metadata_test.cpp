#include "infer/model_metadata.h"

#include <fstream>

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "common/error.h"
#include "vision/test_images.h"

namespace pt2onnx::infer {
namespace {

TEST(ModelMetadata, ReadsMetadataProps) {
  testing::TempDir dir("pt2onnx-metadata");
  onnx::ModelProto model;
  model.set_ir_version(8);
  auto* p = model.add_metadata_props();
  p->set_key("pt2onnx.labels");
  p->set_value("biopsy,magview");
  {
    std::ofstream out(dir / "m.onnx", std::ios::binary);
    model.SerializeToOstream(&out);
  }
  const auto metadata = read_model_metadata(dir / "m.onnx");
  EXPECT_EQ(metadata.at("pt2onnx.labels"), "biopsy,magview");
  EXPECT_EQ(labels_for(metadata, 2), (std::vector<std::string>{"biopsy", "magview"}));
  EXPECT_THROW(labels_for(metadata, 3), Error);
  EXPECT_EQ(labels_for({}, 2), (std::vector<std::string>{"output_0", "output_1"}));
}

TEST(ModelMetadata, Errors) {
  testing::TempDir dir("pt2onnx-metadata");
  try {
    read_model_metadata(dir / "missing.onnx");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Io);
    EXPECT_NE(std::string(e.what()).find("missing.onnx"), std::string::npos);
  }
  testing::write_file(dir / "junk.onnx", testing::random_bytes(64, 3));
  EXPECT_THROW(read_model_metadata(dir / "junk.onnx"), Error);
}

TEST(ModelMetadata, SplitLabels) {
  EXPECT_EQ(split_labels("a, b ,c"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_THROW(split_labels("a,,b"), Error);
  EXPECT_THROW(split_labels(""), Error);
}

}  // namespace
}  // namespace pt2onnx::infer
