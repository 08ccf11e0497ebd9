// The EfficientNet graphs against figures read off torchvision 0.14's models
// (the full key-by-key and layer-by-layer comparison is the oracle test
// test_reference_model_graphs.py).
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "models/graph_queries.h"
#include "models/registry.h"
#include "models/scaling.h"

namespace pt2onnx::models {
namespace {

using nn::LayerKind;

std::map<LayerKind, int> kind_counts(const nn::LayerGraph& g) {
  std::map<LayerKind, int> counts;
  for (const auto& l : g.layers) ++counts[l.kind];
  return counts;
}

TEST(EfficientNet, B0ParameterCountsMatchTorchvision) {
  // sum(p.numel() for p in model.parameters()) with torchvision's and the seed's heads.
  EXPECT_EQ(parameter_count(build("efficientnet_b0", {1000, 0.2})), 5288548);
  EXPECT_EQ(parameter_count(build("efficientnet_b0", {2, 0.4})), 4010110);
  EXPECT_EQ(parameter_count(build("efficientnet_b0", {1, 0.4})), 4008829);
  EXPECT_EQ(parameter_count(build("efficientnet_b0", {3, 0.4})), 4011391);
}

TEST(EfficientNet, B0LayerGraphHasTorchvisionsShape) {
  const nn::LayerGraph g = build("efficientnet_b0", {2, 0.4});
  EXPECT_EQ(g.arch, "efficientnet_b0");
  EXPECT_EQ(g.input_size, 224);
  EXPECT_EQ(g.num_outputs, 2);
  // 230 leaf modules, minus 7 StochasticDepth modules of blocks without a residual,
  // plus 16 SE multiplies, 9 residual adds and the flatten.
  EXPECT_EQ(g.layers.size(), 249U);
  EXPECT_EQ(g.expected_state().size(), 311U);
  const auto counts = kind_counts(g);
  EXPECT_EQ(counts.at(LayerKind::Conv2d), 81);  // stem, 16 x (dw, fc1, fc2, project), 15 expands, head
  EXPECT_EQ(counts.at(LayerKind::BatchNorm2d), 49);
  EXPECT_EQ(counts.at(LayerKind::SiLU), 49);  // 33 after BatchNorms, 16 inside the SE blocks
  EXPECT_EQ(counts.at(LayerKind::Sigmoid), 16);
  EXPECT_EQ(counts.at(LayerKind::Mul), 16);
  EXPECT_EQ(counts.at(LayerKind::Add), 9);
  EXPECT_EQ(counts.at(LayerKind::StochasticDepth), 9);
  EXPECT_EQ(counts.at(LayerKind::AdaptiveAvgPool2d), 17);
  EXPECT_EQ(counts.at(LayerKind::Dropout), 1);
  EXPECT_EQ(counts.at(LayerKind::Flatten), 1);
  EXPECT_EQ(counts.at(LayerKind::Linear), 1);

  const auto state = g.expected_state();
  EXPECT_EQ(state.front().first, "features.0.0.weight");
  EXPECT_EQ(state.front().second.shape, (Shape{32, 3, 3, 3}));
  EXPECT_EQ(state.back().first, "classifier.1.bias");
  EXPECT_EQ(state[state.size() - 2].second.shape, (Shape{2, 1280}));
}

TEST(EfficientNet, PathsAreUniqueAndValuesFlowForward) {
  for (const auto& arch : architectures()) {
    const nn::LayerGraph g = build(arch, {5, 0.2});
    std::set<std::string> paths;
    std::set<nn::ValueId> defined{g.input};
    for (const auto& l : g.layers) {
      EXPECT_TRUE(paths.insert(l.path).second) << arch << ": duplicate path " << l.path;
      for (auto v : l.inputs) EXPECT_TRUE(defined.contains(v)) << arch << ": " << l.path << " reads value " << v;
      defined.insert(l.output);
    }
    EXPECT_EQ(g.output, g.layers.back().output) << arch;
  }
}

TEST(EfficientNet, SqueezeExcitationAndResidualWiring) {
  const nn::LayerGraph g = build("efficientnet_b0", {2, 0.4});
  // features.2.1: expand, depthwise, SE at block.2, project at block.3, residual.
  const auto& dw_act = layer_at(g, "features.2.1.block.1.2");
  const auto& mul = layer_at(g, "features.2.1.block.2");
  EXPECT_EQ(mul.kind, LayerKind::Mul);
  ASSERT_EQ(mul.inputs.size(), 2U);
  EXPECT_EQ(mul.inputs[0], dw_act.output);  // the SE input times its scale
  EXPECT_EQ(mul.inputs[1], layer_at(g, "features.2.1.block.2.scale_activation").output);
  const auto& fc1 = layer_at(g, "features.2.1.block.2.fc1").as<nn::Conv2dAttrs>();
  EXPECT_EQ(fc1.in_channels, 144);
  EXPECT_EQ(fc1.out_channels, 6);  // max(1, block input 24 // 4)
  EXPECT_TRUE(fc1.bias);

  const auto& add = layer_at(g, "features.2.1");
  EXPECT_EQ(add.kind, LayerKind::Add);
  EXPECT_EQ(add.inputs[0], layer_at(g, "features.2.1.stochastic_depth").output);
  EXPECT_EQ(add.inputs[1], layer_at(g, "features.2.0.block.3.1").output);  // the previous block's output
  EXPECT_DOUBLE_EQ(layer_at(g, "features.2.1.stochastic_depth").as<nn::DropoutAttrs>().p, 0.2 * 2 / 16);
  // Stage 1 has expand ratio 1: no expansion conv, the depthwise is block.0.
  EXPECT_EQ(layer_at(g, "features.1.0.block.0.0").as<nn::Conv2dAttrs>().groups, 32);
  EXPECT_FALSE(layer_at(g, "features.1.0.block.0.0").as<nn::Conv2dAttrs>().bias);
  const auto& dw5 = layer_at(g, "features.3.0.block.1.0").as<nn::Conv2dAttrs>();
  EXPECT_EQ(dw5.kernel[0], 5);
  EXPECT_EQ(dw5.padding[0], 2);
  EXPECT_EQ(dw5.stride[0], 2);
  EXPECT_DOUBLE_EQ(layer_at(g, "classifier.0").as<nn::DropoutAttrs>().p, 0.4);
}

TEST(EfficientNet, VariantsScaleAsTorchvision) {
  struct Expect {
    const char* arch;
    std::int64_t params_1000;  // torchvision, num_classes 1000
    std::size_t state_keys;    // without num_batches_tracked
    std::int64_t head_channels;
    std::int64_t input_size;
    double eps;
  };
  for (const auto& e : {Expect{"efficientnet_b1", 7794184, 439, 1280, 240, 1e-5},
                        Expect{"efficientnet_b2", 9109994, 439, 1408, 288, 1e-5},
                        Expect{"efficientnet_b3", 12233232, 496, 1536, 300, 1e-5},
                        Expect{"efficientnet_b4", 19341616, 610, 1792, 380, 1e-5},
                        Expect{"efficientnet_b5", 30389784, 738, 2048, 456, 1e-3},
                        Expect{"efficientnet_b6", 43040704, 852, 2304, 528, 1e-3},
                        Expect{"efficientnet_b7", 66347960, 1037, 2560, 600, 1e-3}}) {
    const nn::LayerGraph g = build(e.arch, {1000, 0.2});
    EXPECT_EQ(parameter_count(g), e.params_1000) << e.arch;
    EXPECT_EQ(g.expected_state().size(), e.state_keys) << e.arch;
    EXPECT_EQ(layer_at(g, "classifier.1").as<nn::LinearAttrs>().in_features, e.head_channels) << e.arch;
    EXPECT_EQ(g.input_size, e.input_size) << e.arch;
    for (const auto& l : g.layers) {
      if (l.kind == LayerKind::BatchNorm2d) {
        EXPECT_EQ(l.as<nn::BatchNormAttrs>().eps, e.eps) << e.arch << " " << l.path;
      }
    }
  }
}

TEST(Scaling, MakeDivisibleAndDepthRoundAsPython) {
  EXPECT_EQ(make_divisible(32 * 1.0, 8), 32);
  EXPECT_EQ(make_divisible(32 * 1.1, 8), 32);    // 35.2 -> 32 (within 10%)
  EXPECT_EQ(make_divisible(16 * 1.1, 8), 16);    // 17.6 -> 16
  EXPECT_EQ(make_divisible(24 * 1.4, 8), 32);    // 33.6 -> 32
  EXPECT_EQ(make_divisible(112 * 1.8, 8), 200);  // 201.6 -> 200
  EXPECT_EQ(make_divisible(3.0, 8), 8);          // never below the divisor
  EXPECT_EQ(make_divisible(20.0, 16), 32);       // 16 would be 20% low
  EXPECT_EQ(adjust_depth(1, 1.1), 2);
  EXPECT_EQ(adjust_depth(3, 1.1), 4);
  EXPECT_EQ(adjust_depth(2, 1.0), 2);
  EXPECT_EQ(adjust_depth(4, 3.1), 13);
}

}  // namespace
}  // namespace pt2onnx::models
