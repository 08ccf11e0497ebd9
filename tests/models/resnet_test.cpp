#include <map>

#include <gtest/gtest.h>

#include "models/graph_queries.h"
#include "models/registry.h"

namespace pt2onnx::models {
namespace {

using nn::LayerKind;

TEST(ResNet, ParameterCountsMatchTorchvision) {
  EXPECT_EQ(parameter_count(build("resnet18", {1000, 0.0})), 11689512);
  EXPECT_EQ(parameter_count(build("resnet34", {1000, 0.0})), 21797672);
  EXPECT_EQ(parameter_count(build("resnet50", {1000, 0.0})), 25557032);
  EXPECT_EQ(parameter_count(build("resnet101", {1000, 0.0})), 44549160);
  EXPECT_EQ(parameter_count(build("resnet152", {1000, 0.0})), 60192808);
  EXPECT_EQ(build("resnet18", {1000, 0.0}).expected_state().size(), 102U);
  EXPECT_EQ(build("resnet50", {1000, 0.0}).expected_state().size(), 267U);
}

TEST(ResNet, Resnet18Structure) {
  const nn::LayerGraph g = build("resnet18", {2, 0.0});
  std::map<LayerKind, int> counts;
  for (const auto& l : g.layers) ++counts[l.kind];
  EXPECT_EQ(counts[LayerKind::Conv2d], 20);  // stem, 8 blocks x 2, 3 downsamples
  EXPECT_EQ(counts[LayerKind::BatchNorm2d], 20);
  EXPECT_EQ(counts[LayerKind::ReLU], 17);
  EXPECT_EQ(counts[LayerKind::Add], 8);
  EXPECT_EQ(counts[LayerKind::MaxPool2d], 1);

  const auto& pool = layer_at(g, "maxpool").as<nn::PoolAttrs>();
  EXPECT_EQ(pool.kernel[0], 3);
  EXPECT_EQ(pool.stride[0], 2);
  EXPECT_EQ(pool.padding[0], 1);
  const auto& stem = layer_at(g, "conv1").as<nn::Conv2dAttrs>();
  EXPECT_EQ(stem.kernel[0], 7);
  EXPECT_EQ(stem.padding[0], 3);

  // layer2.0 downsamples: the identity path is conv1x1 stride 2 + BN, added before the last ReLU.
  const auto& ds = layer_at(g, "layer2.0.downsample.0");
  EXPECT_EQ(ds.as<nn::Conv2dAttrs>().stride[0], 2);
  EXPECT_EQ(ds.inputs[0], layer_at(g, "layer1.1.relu_1").output);
  const auto& add = layer_at(g, "layer2.0");
  EXPECT_EQ(add.kind, LayerKind::Add);
  EXPECT_EQ(add.inputs[0], layer_at(g, "layer2.0.bn2").output);
  EXPECT_EQ(add.inputs[1], layer_at(g, "layer2.0.downsample.1").output);
  EXPECT_EQ(layer_at(g, "layer2.0.relu_1").inputs[0], add.output);
  // Without a downsample the identity is the block input itself.
  EXPECT_EQ(layer_at(g, "layer1.0").inputs[1], layer_at(g, "maxpool").output);
  EXPECT_EQ(layer_at(g, "fc").as<nn::LinearAttrs>().in_features, 512);
}

TEST(ResNet, BottleneckStrideSitsOnTheThreeByThree) {
  const nn::LayerGraph g = build("resnet50", {10, 0.0});
  EXPECT_EQ(layer_at(g, "layer2.0.conv1").as<nn::Conv2dAttrs>().stride[0], 1);
  EXPECT_EQ(layer_at(g, "layer2.0.conv2").as<nn::Conv2dAttrs>().stride[0], 2);
  EXPECT_EQ(layer_at(g, "layer1.0.downsample.0").as<nn::Conv2dAttrs>().out_channels, 256);  // 64 -> 256, stride 1
  EXPECT_EQ(layer_at(g, "layer1.0.relu_2").kind, LayerKind::ReLU);
  EXPECT_EQ(layer_at(g, "fc").as<nn::LinearAttrs>().in_features, 2048);
}

}  // namespace
}  // namespace pt2onnx::models
