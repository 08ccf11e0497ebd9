#include "exporter/export_report.h"

#include <fstream>

#include <gtest/gtest.h>

#include "exporter/file_hash.h"
#include "graph_fixtures.h"
#include "pt2onnx/error.h"

namespace pt2onnx::exporter {
namespace {

TEST(ExportReport, ReadsLikeTheSeedScript) {
  ExportReport r{"EfficientNet-B0", 16'240'000, 3, 224, 2, std::vector<std::string>{"biopsy", "magview"}};
  EXPECT_EQ(format_export_report(r),
            "Model: EfficientNet-B0\n"
            "Size: 16.2 MB\n"
            "Input: (batch, 3, 224, 224)\n"
            "Output: (batch, 2) - [biopsy, magview] logits\n");
  r.labels.reset();
  r.num_outputs = 1;
  EXPECT_NE(format_export_report(r).find("Output: (batch, 1) logits\n"), std::string::npos);
}

TEST(FileHash, Sha256OfAKnownText) {
  testing::ScratchDir dir;
  std::ofstream(dir / "abc", std::ios::binary) << "abc";
  EXPECT_EQ(sha256_file_hex(dir / "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::ofstream(dir / "empty", std::ios::binary).flush();
  EXPECT_EQ(sha256_file_hex(dir / "empty"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_THROW((void)sha256_file_hex(dir / "absent"), Error);
}

}  // namespace
}  // namespace pt2onnx::exporter
