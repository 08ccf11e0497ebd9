#include "inspect/onnx_summary.h"

#include <fstream>

#include <gtest/gtest.h>

#include "exporter/atomic_write.h"
#include "exporter/graph_fixtures.h"
#include "exporter/onnx_export.h"
#include "pt2onnx/error.h"

namespace pt2onnx::exporter {
namespace {

// The fixtures export models with the exporter; the summary under test is inspect's.
using inspect::onnx_summary_json;
using inspect::onnx_summary_text;

namespace fs = std::filesystem;
using testing::ScratchDir;

fs::path write_tiny(const ScratchDir& dir, const std::string& name) {
  ExportOptions o;
  o.labels = std::vector<std::string>{"biopsy", "magview"};
  const auto model = export_model(testing::tiny_efficientnet(2), o);
  write_model(model, dir / name, std::nullopt);
  return dir / name;
}

TEST(OnnxSummary, JsonDescribesInterfaceOperatorsWeightsAndMetadata) {
  ScratchDir dir;
  const auto path = write_tiny(dir, "m.onnx");
  const auto j = onnx_summary_json(path);
  EXPECT_EQ(j["file"], path.string());
  EXPECT_EQ(j["file_bytes"], fs::file_size(path));
  EXPECT_EQ(j["ir_version"], 8);
  EXPECT_EQ(j["opsets"]["ai.onnx"], 17);
  EXPECT_EQ(j["producer"]["name"], "pt2onnx");
  EXPECT_EQ(j["inputs"], nlohmann::json::parse(R"([{"name":"image","dtype":"float32","shape":["batch",3,16,16]}])"));
  EXPECT_EQ(j["outputs"], nlohmann::json::parse(R"([{"name":"logits","dtype":"float32","shape":["batch",2]}])"));
  EXPECT_EQ(j["op_counts"]["Conv"], 5);
  EXPECT_EQ(j["op_counts"]["Gemm"], 1);
  EXPECT_EQ(j["node_count"], 18);
  EXPECT_EQ(j["initializers"]["count"], 12);
  // 8*3*3*3 + 8*1*3*3 + 2*8 + 8*2 + 8*8 + 2*8 weights, 8+8+2+8+8+2 biases, float32.
  EXPECT_EQ(j["initializers"]["bytes"], (216 + 72 + 16 + 16 + 64 + 16 + 36) * 4);
  EXPECT_EQ(j["metadata"]["pt2onnx.labels"], "biopsy,magview");
}

TEST(OnnxSummary, TextShowsTheSameFacts) {
  ScratchDir dir;
  const auto text = onnx_summary_text(write_tiny(dir, "m.onnx"));
  for (const char* line :
       {"IR version 8, opset ai.onnx 17, producer pt2onnx", "Input  image: float32 [batch, 3, 16, 16]",
        "Output logits: float32 [batch, 2]", "Nodes: 18 (Conv 5, Mul 4, Sigmoid 4,", "Initializers: 12 tensors,",
        "    pt2onnx.arch = tiny_efficientnet"}) {
    EXPECT_NE(text.find(line), std::string::npos) << "missing '" << line << "' in\n" << text;
  }
}

TEST(OnnxSummary, InitializersListedAsInputsAreNotShownAsInputs) {
  auto model = export_model(testing::tiny_efficientnet(2), {});
  auto* extra = model.mutable_graph()->add_input();
  extra->set_name("classifier.1.bias");
  const auto j = onnx_summary_json(model);
  EXPECT_EQ(j["inputs"].size(), 1u);
}

TEST(OnnxSummary, RecognisesOnnxFilesByNameOrContent) {
  ScratchDir dir;
  const auto path = write_tiny(dir, "m.onnx");
  EXPECT_TRUE(is_onnx_file(path));
  fs::copy_file(path, dir / "renamed.bin");
  EXPECT_TRUE(is_onnx_file(dir / "renamed.bin"));
  std::ofstream(dir / "ckpt.pth", std::ios::binary) << "PK\x03\x04 not a model";
  EXPECT_FALSE(is_onnx_file(dir / "ckpt.pth"));
  const std::string pickle("\x80\x02}q\x00.", 6);  // (a char* would stop at the NUL)
  std::ofstream(dir / "pickle.pth", std::ios::binary) << pickle;
  EXPECT_FALSE(is_onnx_file(dir / "pickle.pth"));
  EXPECT_FALSE(is_onnx_file(dir / "absent.bin"));
}

TEST(OnnxSummary, MalformedFilesAreBadInput) {
  ScratchDir dir;
  std::ofstream(dir / "junk.onnx", std::ios::binary) << "\x08\x08\x12\xff\xff\xff\xff\x0f truncated";
  try {
    (void)onnx_summary_json(dir / "junk.onnx");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
    EXPECT_NE(std::string(e.what()).find("junk.onnx"), std::string::npos) << e.what();
  }
  try {
    (void)onnx_summary_json(dir / "absent.onnx");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Io);
  }
}

}  // namespace
}  // namespace pt2onnx::exporter
