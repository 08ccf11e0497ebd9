#include "infer/progress.h"

#include <gtest/gtest.h>

#include "vision/test_images.h"

namespace pt2onnx::infer {
namespace {

TEST(Progress, FormatDuration) {
  EXPECT_EQ(format_duration(0), "0:00");
  EXPECT_EQ(format_duration(65.4), "1:05");
  EXPECT_EQ(format_duration(3 * 3600 + 2 * 60 + 1), "3:02:01");
  EXPECT_EQ(format_duration(-1), "?");
}

std::string drawn(bool enabled, std::int64_t total) {
  std::FILE* f = std::tmpfile();
  ProgressBar bar(f, enabled);
  if (total >= 0) bar.set_total(total);
  bar.update(5, 1);
  bar.finish();
  std::fflush(f);
  std::rewind(f);
  std::string text;
  for (int c = std::fgetc(f); c != EOF; c = std::fgetc(f)) text += static_cast<char>(c);
  std::fclose(f);
  return text;
}

TEST(Progress, DrawsOnlyWhenEnabled) {
  EXPECT_EQ(drawn(false, 10), "");
  const std::string with_total = drawn(true, 10);
  EXPECT_NE(with_total.find("5/10 images"), std::string::npos) << with_total;
  EXPECT_NE(with_total.find("(1 failed)"), std::string::npos) << with_total;
  EXPECT_NE(drawn(true, -1).find("5 images"), std::string::npos);
}

}  // namespace
}  // namespace pt2onnx::infer
