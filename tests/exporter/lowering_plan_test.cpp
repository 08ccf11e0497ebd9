#include "exporter/lowering_plan.h"

#include <gtest/gtest.h>

#include "graph_fixtures.h"
#include "pt2onnx/error.h"

namespace pt2onnx::exporter {
namespace {

using nn::LayerKind;
using testing::bn;
using testing::conv;

std::size_t index_of(const nn::LayerGraph& g, const std::string& path) {
  for (std::size_t i = 0; i < g.layers.size(); ++i) {
    if (g.layers[i].path == path) return i;
  }
  throw std::runtime_error("no layer " + path);
}

TEST(LoweringPlan, EvalIdentitiesAliasTheirInputAndBatchNormsFoldIntoTheirConv) {
  const auto g = testing::tiny_efficientnet();
  const auto plan = plan_lowering(g);
  for (const char* path : {"features.1.0.stochastic_depth", "classifier.0", "features.0.1", "features.1.0.block.0.1",
                           "features.1.0.block.2.1"}) {
    EXPECT_TRUE(plan.skipped[index_of(g, path)]) << path;
  }
  EXPECT_EQ(plan.folded_batch_norm[index_of(g, "features.0.0")], index_of(g, "features.0.1"));
  EXPECT_EQ(plan.folded_batch_norm[index_of(g, "features.1.0.block.2.0")], index_of(g, "features.1.0.block.2.1"));
  EXPECT_FALSE(plan.folded_batch_norm[index_of(g, "features.1.0.block.1.fc1")]);

  // The Dropout before the classifier reads the flatten output: same tensor.
  const auto& dropout = g.layers[index_of(g, "classifier.0")];
  EXPECT_EQ(plan.value_names[static_cast<std::size_t>(plan.canonical[static_cast<std::size_t>(dropout.output)])],
            "flatten");
  EXPECT_EQ(plan.value_names[static_cast<std::size_t>(g.input)], kInputName);
  EXPECT_EQ(plan.value_names[static_cast<std::size_t>(g.output)], kOutputName);
}

TEST(LoweringPlan, BatchNormStaysWhenTheConvOutputHasAnotherReader) {
  nn::LayerGraph g;
  g.num_outputs = 4;
  const auto c = g.add(LayerKind::Conv2d, "conv", {g.input}, conv(3, 4, 1));
  const auto b = g.add(LayerKind::BatchNorm2d, "bn", {c}, bn(4));
  g.add(LayerKind::Add, "add", {b, c});
  const auto plan = plan_lowering(g);
  EXPECT_FALSE(plan.skipped[1]);
  EXPECT_FALSE(plan.folded_batch_norm[0]);
}

TEST(LoweringPlan, BatchNormAfterSomethingOtherThanAConvStays) {
  const auto g = testing::tiny_mixed();
  const auto plan = plan_lowering(g);
  EXPECT_FALSE(plan.skipped[index_of(g, "bn")]);
}

TEST(LoweringPlan, RejectsRepeatedPathsAndAnOutputThatIsTheInput) {
  nn::LayerGraph g;
  auto x = g.add(LayerKind::ReLU, "act", {g.input});
  g.add(LayerKind::ReLU, "act", {x});
  EXPECT_THROW(plan_lowering(g), Error);

  nn::LayerGraph only_dropout;
  only_dropout.add(LayerKind::Dropout, "drop", {only_dropout.input}, nn::DropoutAttrs{0.5});
  try {
    plan_lowering(only_dropout);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::ExportFailed);
  }
}

}  // namespace
}  // namespace pt2onnx::exporter
