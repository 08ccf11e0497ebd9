#include "infer/model_metadata.h"
#include "common/onnx_file.h"

#include <fstream>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "pt2onnx/error.h"
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
  const auto metadata = read_onnx_metadata(dir / "m.onnx");
  EXPECT_EQ(metadata.at("pt2onnx.labels"), "biopsy,magview");
  EXPECT_EQ(labels_for(metadata, 2), (std::vector<std::string>{"biopsy", "magview"}));
  EXPECT_THROW(labels_for(metadata, 3), Error);
  EXPECT_EQ(labels_for({}, 2), (std::vector<std::string>{"output_0", "output_1"}));
}

// Only metadata_props are parsed; the graph and every other field around
// them are skipped, wherever they stand in the file. (Protobuf writes a
// message's fields in field-number order, metadata_props after the graph, so
// the file is made of three messages one after the other, which protobuf
// reads as one: an entry, the graph and the rest, another entry.)
TEST(ModelMetadata, SkipsTheGraphAndOtherFields) {
  testing::TempDir dir("pt2onnx-metadata");
  const auto entry = [](const std::string& key, const std::string& value) {
    onnx::ModelProto m;
    auto* p = m.add_metadata_props();
    p->set_key(key);
    p->set_value(value);
    return m.SerializeAsString();
  };
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("pt2onnx");
  model.add_opset_import()->set_version(17);
  auto* init = model.mutable_graph()->add_initializer();
  init->set_name("w");
  init->add_dims(1000);
  init->set_data_type(onnx::TensorProto::FLOAT);
  init->set_raw_data(std::string(4000, '\x7f'));
  model.mutable_graph()->set_name("g");
  model.set_doc_string("trained somewhere");
  std::string body;
  ASSERT_TRUE(model.SerializeToString(&body));
  std::string bytes = entry("pt2onnx.labels", "a,b") + body + entry("pt2onnx.input_size", "224x224");
  // Then a field number this reader does not know.
  const std::size_t before_unknown = bytes.size();
  {
    google::protobuf::io::StringOutputStream raw(&bytes);
    google::protobuf::io::CodedOutputStream out(&raw);
    using google::protobuf::internal::WireFormatLite;
    out.WriteTag(WireFormatLite::MakeTag(101, WireFormatLite::WIRETYPE_VARINT));
    out.WriteVarint32(5);
  }
  ASSERT_EQ(bytes.size(), before_unknown + 3);
  testing::write_file(dir / "m.onnx", testing::Bytes(bytes.begin(), bytes.end()));
  const auto metadata = read_onnx_metadata(dir / "m.onnx");
  EXPECT_EQ(metadata,
            (std::map<std::string, std::string>{{"pt2onnx.labels", "a,b"}, {"pt2onnx.input_size", "224x224"}}));
  // Cut inside the graph: an error, not a partial answer.
  const auto graph_middle = static_cast<std::ptrdiff_t>(entry("pt2onnx.labels", "a,b").size() + body.size() / 2);
  testing::write_file(dir / "cut.onnx", testing::Bytes(bytes.begin(), bytes.begin() + graph_middle));
  EXPECT_THROW(read_onnx_metadata(dir / "cut.onnx"), Error);
}

TEST(ModelMetadata, Errors) {
  testing::TempDir dir("pt2onnx-metadata");
  try {
    read_onnx_metadata(dir / "missing.onnx");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Io);
    EXPECT_NE(std::string(e.what()).find("missing.onnx"), std::string::npos);
  }
  testing::write_file(dir / "junk.onnx", testing::random_bytes(64, 3));
  EXPECT_THROW(read_onnx_metadata(dir / "junk.onnx"), Error);
}

}  // namespace
}  // namespace pt2onnx::infer
