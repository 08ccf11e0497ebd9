#include "infer/output_format.h"

#include <cmath>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace pt2onnx::infer {
namespace {

TEST(OutputFormat, CsvHeaderRowsAndErrors) {
  const RowFormatter f(OutputFormat::Csv, {"biopsy", "magview"}, OutputActivation::Sigmoid, 0.5);
  EXPECT_EQ(f.header(), "path,biopsy,magview,predicted,error\n");
  const std::vector<float> scores{0.9f, 0.75f};
  EXPECT_EQ(f.row("a.png", scores), "a.png,0.9,0.75,biopsy;magview,\n");
  const std::vector<float> none{0.1f, 0.5f};
  EXPECT_EQ(f.row("b.png", none), "b.png,0.1,0.5,,\n");
  EXPECT_EQ(f.error_row("c,d.png", "not a \"PNG\""), "\"c,d.png\",,,,\"not a \"\"PNG\"\"\"\n");
}

TEST(OutputFormat, JsonLines) {
  const RowFormatter f(OutputFormat::Jsonl, {"biopsy", "magview"}, OutputActivation::Sigmoid, 0.5);
  EXPECT_EQ(f.header(), "");
  const std::vector<float> scores{0.9f, 0.25f};
  const std::string line = f.row("dir/a \"1\".png", scores);
  ASSERT_EQ(line.back(), '\n');
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["path"], "dir/a \"1\".png");
  EXPECT_NEAR(j["probabilities"]["biopsy"].get<double>(), 0.9, 1e-6);
  EXPECT_EQ(j["predicted"], nlohmann::json::array({"biopsy"}));
  EXPECT_TRUE(j["error"].is_null());
  const auto e = nlohmann::json::parse(f.error_row("x.png", "file is empty"));
  EXPECT_EQ(e["error"], "file is empty");
  EXPECT_FALSE(e.contains("probabilities"));
}

TEST(OutputFormat, LogitsKeyAndNonFiniteValues) {
  const RowFormatter f(OutputFormat::Jsonl, {"a"}, OutputActivation::None, 0.0);
  const std::vector<float> nan{std::nanf("")};
  const auto j = nlohmann::json::parse(f.row("p", nan));
  EXPECT_TRUE(j["logits"]["a"].is_null());
}

TEST(OutputFormat, SoftmaxPredictsTheTopLabel) {
  const RowFormatter f(OutputFormat::Csv, {"cat", "dog", "fox"}, OutputActivation::Softmax, 0.9);
  std::vector<float> s{1.0f, 3.0f, 2.0f};
  apply_activation(OutputActivation::Softmax, s);
  EXPECT_NEAR(s[0] + s[1] + s[2], 1.0f, 1e-6);
  EXPECT_GT(s[1], s[2]);
  EXPECT_NE(f.row("p", s).find(",dog,"), std::string::npos);
}

TEST(OutputFormat, Activations) {
  std::vector<float> s{0.0f, 2.0f, -1000.0f};
  apply_activation(OutputActivation::Sigmoid, s);
  EXPECT_FLOAT_EQ(s[0], 0.5f);
  EXPECT_NEAR(s[1], 0.880797f, 1e-6);
  EXPECT_EQ(s[2], 0.0f);
  std::vector<float> big{1000.0f, 0.0f};
  apply_activation(OutputActivation::Softmax, big);  // no overflow
  EXPECT_FLOAT_EQ(big[0], 1.0f);
  std::vector<float> raw{3.5f};
  apply_activation(OutputActivation::None, raw);
  EXPECT_EQ(raw[0], 3.5f);
  EXPECT_EQ(output_activation_from_name("softmax"), OutputActivation::Softmax);
  EXPECT_FALSE(output_activation_from_name("relu"));
  EXPECT_EQ(output_format_from_name("jsonl"), OutputFormat::Jsonl);
}

}  // namespace
}  // namespace pt2onnx::infer
