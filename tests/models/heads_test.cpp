#include "models/heads.h"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/registry.h"
#include "pt2onnx/error.h"
#include "support/fake_state.h"

namespace pt2onnx::models {
namespace {

using testing::fake_state;
using ::testing::HasSubstr;
using testing::patterned;

std::string usage_error(const std::string& spec) {
  try {
    (void)parse_head_spec(spec);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    return e.what();
  }
  ADD_FAILURE() << "accepted --head " << spec;
  return {};
}

TEST(Heads, ParsesEachModuleOfTheDescription) {
  const auto m = parse_head_spec("Dropout(0.4), linear,relu,dropout,GELU,identity,linear");
  ASSERT_EQ(m.size(), 7U);
  EXPECT_EQ(m[0].kind, nn::LayerKind::Dropout);
  EXPECT_DOUBLE_EQ(m[0].dropout, 0.4);
  EXPECT_EQ(m[1].kind, nn::LayerKind::Linear);
  EXPECT_EQ(m[2].kind, nn::LayerKind::ReLU);
  EXPECT_DOUBLE_EQ(m[3].dropout, 0.5);  // nn.Dropout's default
  EXPECT_EQ(m[4].kind, nn::LayerKind::GELU);
  EXPECT_TRUE(m[5].identity);
  EXPECT_THAT(usage_error("linear,tanh,linear"), HasSubstr("'tanh' is not a head module"));
  EXPECT_THAT(usage_error("linear,,linear"), HasSubstr("an empty module"));
  EXPECT_THAT(usage_error("linear,relu"), HasSubstr("must end with linear"));
  EXPECT_THAT(usage_error("dropout(x),linear"), HasSubstr("a dropout probability"));
}

// A ResNet-18 state dict whose fc is replaced by `head` (keys under "fc").
checkpoint::StateDict resnet_with_head(const std::vector<std::pair<std::string, Shape>>& head) {
  auto state = fake_state(build("resnet18", {2, 0.0}));
  std::erase_if(state.entries, [](const auto& e) { return e.first.starts_with("fc."); });
  std::uint32_t seed = 100;
  for (const auto& [key, shape] : head) state.entries.emplace_back(key, patterned(shape, seed++));
  return state;
}

std::vector<nn::LayerKind> tail_kinds(const nn::LayerGraph& g, std::size_t n) {
  std::vector<nn::LayerKind> kinds;
  for (std::size_t i = g.layers.size() - n; i < g.layers.size(); ++i) kinds.push_back(g.layers[i].kind);
  return kinds;
}

TEST(Heads, ReadsDropoutLinearAndAnMlpFromTheCheckpoint) {
  using K = nn::LayerKind;
  const auto plain = build_and_bind("resnet18", fake_state(build("resnet18", {5, 0.0})), 0.0);
  EXPECT_TRUE(plain.notes.empty());  // the family's own Linear: nothing to say

  const auto dropout =
      build_and_bind("resnet18", resnet_with_head({{"fc.1.weight", {3, 512}}, {"fc.1.bias", {3}}}), 0.0);
  EXPECT_EQ(dropout.num_outputs, 3);
  EXPECT_EQ(tail_kinds(dropout, 3), (std::vector<K>{K::Flatten, K::Dropout, K::Linear}));
  EXPECT_EQ(dropout.layers.back().path, "fc.1");
  EXPECT_THAT(dropout.notes.at(0), HasSubstr("the head at fc is Sequential(Dropout, Linear)"));

  const auto mlp = build_and_bind(
      "resnet18",
      resnet_with_head({{"fc.0.weight", {64, 512}}, {"fc.0.bias", {64}}, {"fc.3.weight", {4, 64}}, {"fc.3.bias", {4}}}),
      0.0);
  EXPECT_EQ(mlp.num_outputs, 4);
  EXPECT_EQ(tail_kinds(mlp, 4), (std::vector<K>{K::Linear, K::ReLU, K::Dropout, K::Linear}));
  EXPECT_EQ(mlp.layers.back().as<nn::LinearAttrs>().in_features, 64);
  EXPECT_THAT(mlp.notes.at(0), HasSubstr("ReLU is assumed between them"));

  // Three parameter-free modules between two Linear layers: not guessed.
  try {
    (void)build_and_bind("resnet18", resnet_with_head({{"fc.0.weight", {64, 512}}, {"fc.4.weight", {4, 64}}}), 0.0);
    FAIL() << "guessed a head with a gap of three";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::ArchMismatch);
    EXPECT_THAT(e.what(), HasSubstr("describe the head with --head"));
  }
}

TEST(Heads, TheDescriptionNamesWhatTheCheckpointCannot) {
  const auto state =
      resnet_with_head({{"fc.0.weight", {64, 512}}, {"fc.0.bias", {64}}, {"fc.2.weight", {2, 64}}, {"fc.2.bias", {2}}});
  const auto g = build_and_bind("resnet18", state, 0.0, {std::nullopt, "linear,gelu,linear"});
  EXPECT_EQ(g.layers[g.layers.size() - 2].kind, nn::LayerKind::GELU);
  EXPECT_THAT(g.notes.at(0), HasSubstr("Sequential(Linear, GELU, Linear), as --head describes"));
  // Detection reads the same head, with or without the description.
  EXPECT_EQ(detect_architecture(state).arch, "resnet18");
  EXPECT_EQ(detect_architecture(state, "linear,gelu,linear").arch, "resnet18");
  // A description that does not match the tensors: binding says which keys.
  try {
    (void)build_and_bind("resnet18", state, 0.0, {std::nullopt, "linear,linear"});
    FAIL() << "bound a head of the wrong layout";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::ArchMismatch);
    EXPECT_THAT(e.what(), HasSubstr("fc.2.weight"));
  }
}

}  // namespace
}  // namespace pt2onnx::models
