#include "infer/resume.h"

#include <gtest/gtest.h>

#include "pt2onnx/error.h"
#include "vision/test_images.h"

namespace pt2onnx::infer {
namespace {

using testing::TempDir;

const std::string kHeader = "path,a,predicted,error\n";

TEST(Resume, MissingOutputStartsFresh) {
  TempDir dir("pt2onnx-resume");
  const ResumeState s = prepare_resume(dir / "out.csv", OutputFormat::Csv, kHeader);
  EXPECT_TRUE(s.needs_header);
  EXPECT_TRUE(s.done.empty());
}

TEST(Resume, CsvPathsAndACutLastRow) {
  TempDir dir("pt2onnx-resume");
  const auto out = dir / "out.csv";
  testing::write_text(out, kHeader + "x.png,0.1,,\n\"y,\"\"1\"\".png\",,,\"bad\nline\"\nz.png,0.");
  const ResumeState s = prepare_resume(out, OutputFormat::Csv, kHeader);
  EXPECT_FALSE(s.needs_header);
  EXPECT_EQ(s.done, (std::unordered_set<std::string>{"x.png", "y,\"1\".png"}));
  // The cut row is gone; the complete ones stay byte for byte.
  EXPECT_EQ(testing::read_text(out), kHeader + "x.png,0.1,,\n\"y,\"\"1\"\".png\",,,\"bad\nline\"\n");
}

TEST(Resume, CutHeaderMeansStartAgain) {
  TempDir dir("pt2onnx-resume");
  const auto out = dir / "out.csv";
  testing::write_text(out, "path,a,pre");
  const ResumeState s = prepare_resume(out, OutputFormat::Csv, kHeader);
  EXPECT_TRUE(s.needs_header);
  EXPECT_EQ(testing::read_text(out), "");
}

TEST(Resume, OtherHeaderIsAUsageError) {
  TempDir dir("pt2onnx-resume");
  const auto out = dir / "out.csv";
  testing::write_text(out, "path,b,predicted,error\n");
  try {
    prepare_resume(out, OutputFormat::Csv, kHeader);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    EXPECT_NE(std::string(e.what()).find("out.csv"), std::string::npos);
  }
}

TEST(Resume, JsonLines) {
  TempDir dir("pt2onnx-resume");
  const auto out = dir / "out.jsonl";
  testing::write_text(out,
                      "{\"path\":\"a.png\",\"error\":null}\n{\"path\":\"b\\n.png\",\"error\":\"x\"}\n{\"path\":\"c");
  const ResumeState s = prepare_resume(out, OutputFormat::Jsonl, "");
  EXPECT_EQ(s.done, (std::unordered_set<std::string>{"a.png", "b\n.png"}));
  EXPECT_EQ(testing::read_text(out).size(), std::string("{\"path\":\"a.png\",\"error\":null}\n"
                                                        "{\"path\":\"b\\n.png\",\"error\":\"x\"}\n")
                                                .size());
  testing::write_text(out, "not json\n");
  EXPECT_THROW(prepare_resume(out, OutputFormat::Jsonl, ""), Error);
}

TEST(Resume, ReadDonePathsChangesNothing) {
  TempDir dir("pt2onnx-resume");
  const auto out = dir / "out.csv";
  const std::string text = "path,q,predicted,error\nx.png,1,,\ny.p";
  testing::write_text(out, text);
  EXPECT_EQ(read_done_paths(out, OutputFormat::Csv), (std::unordered_set<std::string>{"x.png"}));
  EXPECT_EQ(testing::read_text(out), text);
}

}  // namespace
}  // namespace pt2onnx::infer
