// One test per layer kind: the ONNX nodes, attributes and initializers it lowers to.
#include <gtest/gtest.h>

#include "exporter/batch_norm_folding.h"
#include "exporter/layer_lowerings.h"
#include "exporter/onnx_export.h"
#include "graph_fixtures.h"
#include "models/registry.h"
#include "onnx_test_helpers.h"
#include "pt2onnx/error.h"

namespace pt2onnx::exporter {
namespace {

using nn::LayerKind;
using testing::attr;
using testing::floats;
using testing::initializer;
using testing::inputs;
using testing::ints;
using testing::node_named;
using testing::outputs;

const nn::Layer& layer_at(const nn::LayerGraph& g, const std::string& path) {
  for (const auto& l : g.layers) {
    if (l.path == path) return l;
  }
  throw std::runtime_error("no layer " + path);
}

TEST(LayerLowerings, EveryLayerKindHasOne) {
  for (std::size_t k = 0; k < nn::kLayerKindCount; ++k) {
    const auto kind = static_cast<LayerKind>(k);
    EXPECT_NE(lowering_for(kind), nullptr) << nn::layer_kind_name(kind);
  }
  EXPECT_EQ(lowering_for(LayerKind::Conv2d), lower_conv2d);
  EXPECT_EQ(lowering_for(LayerKind::Dropout), lower_eval_identity);
  EXPECT_EQ(lowering_for(LayerKind::StochasticDepth), lower_eval_identity);
  EXPECT_THROW((void)lowering_for(LayerKind::Count), Error);
}

TEST(LayerLowerings, Conv2dWithFoldedBatchNormCarriesFoldedWeightsUnderTheConvName) {
  const auto g = testing::tiny_efficientnet();
  const auto m = export_model(g, {});
  const auto& stem = node_named(m, "features.0.0");
  EXPECT_EQ(stem.op_type(), "Conv");
  EXPECT_EQ(inputs(stem), (std::vector<std::string>{"image", "features.0.0.weight", "features.0.0.bias"}));
  EXPECT_EQ(outputs(stem), (std::vector<std::string>{"features.0.1"}));  // the BatchNorm's output tensor
  EXPECT_EQ(ints(stem, "kernel_shape"), (std::vector<std::int64_t>{3, 3}));
  EXPECT_EQ(ints(stem, "strides"), (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(ints(stem, "pads"), (std::vector<std::int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(ints(stem, "dilations"), (std::vector<std::int64_t>{1, 1}));
  EXPECT_EQ(attr(stem, "group").i(), 1);
  EXPECT_NE(stem.doc_string().find("features.0.1"), std::string::npos);

  const auto& conv = layer_at(g, "features.0.0");
  const auto& b = layer_at(g, "features.0.1");
  const auto folded = fold_batch_norm(
      conv.params.at("weight"), nullptr,
      {b.params.at("weight"), b.params.at("bias"), b.params.at("running_mean"), b.params.at("running_var"), 1e-3});
  const auto w = floats(initializer(m, "features.0.0.weight"));
  ASSERT_EQ(w.size(), folded.weight.f32().size());
  EXPECT_TRUE(std::equal(w.begin(), w.end(), folded.weight.f32().begin()));
  const auto& wt = initializer(m, "features.0.0.weight");
  EXPECT_EQ(std::vector<std::int64_t>(wt.dims().begin(), wt.dims().end()), (std::vector<std::int64_t>{8, 3, 3, 3}));

  const auto& depthwise = node_named(m, "features.1.0.block.0.0");
  EXPECT_EQ(attr(depthwise, "group").i(), 8);
}

TEST(LayerLowerings, Conv2dWithoutBatchNormKeepsItsOwnWeightsAndBias) {
  const auto g = testing::tiny_efficientnet();
  const auto m = export_model(g, {});
  const auto& fc1 = node_named(m, "features.1.0.block.1.fc1");
  EXPECT_EQ(inputs(fc1), (std::vector<std::string>{"features.1.0.block.1.avgpool", "features.1.0.block.1.fc1.weight",
                                                   "features.1.0.block.1.fc1.bias"}));
  const auto w = floats(initializer(m, "features.1.0.block.1.fc1.weight"));
  const auto expected = layer_at(g, "features.1.0.block.1.fc1").params.at("weight").f32();
  EXPECT_TRUE(std::equal(w.begin(), w.end(), expected.begin(), expected.end()));

  const auto mixed = export_model(testing::tiny_mixed(), {});
  EXPECT_EQ(inputs(node_named(mixed, "conv1")).size(), 3u);  // bias=True, nothing folded
}

TEST(LayerLowerings, BatchNorm2dWithoutAConvBecomesBatchNormalization) {
  const auto g = testing::tiny_mixed();
  const auto m = export_model(g, {});
  const auto& n = node_named(m, "bn");
  EXPECT_EQ(n.op_type(), "BatchNormalization");
  EXPECT_EQ(inputs(n),
            (std::vector<std::string>{"maxpool", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"}));
  EXPECT_FLOAT_EQ(attr(n, "epsilon").f(), 1e-5f);
}

TEST(LayerLowerings, SiLUIsSigmoidTimesInput) {
  const auto m = export_model(testing::tiny_efficientnet(), {});
  const auto& sig = node_named(m, "features.0.2/Sigmoid");
  const auto& mul = node_named(m, "features.0.2");
  EXPECT_EQ(sig.op_type(), "Sigmoid");
  EXPECT_EQ(inputs(sig), (std::vector<std::string>{"features.0.1"}));
  EXPECT_EQ(mul.op_type(), "Mul");
  EXPECT_EQ(inputs(mul), (std::vector<std::string>{"features.0.1", "features.0.2/sigmoid"}));
  EXPECT_EQ(outputs(mul), (std::vector<std::string>{"features.0.2"}));
}

TEST(LayerLowerings, SigmoidReluAndPools) {
  const auto m = export_model(testing::tiny_efficientnet(), {});
  EXPECT_EQ(node_named(m, "features.1.0.block.1.scale_activation").op_type(), "Sigmoid");
  EXPECT_EQ(node_named(m, "avgpool").op_type(), "GlobalAveragePool");

  const auto mixed = export_model(testing::tiny_mixed(), {});
  EXPECT_EQ(node_named(mixed, "relu").op_type(), "Relu");
  const auto& pool = node_named(mixed, "maxpool");
  EXPECT_EQ(pool.op_type(), "MaxPool");
  EXPECT_EQ(ints(pool, "kernel_shape"), (std::vector<std::int64_t>{3, 3}));
  EXPECT_EQ(ints(pool, "strides"), (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(ints(pool, "pads"), (std::vector<std::int64_t>{1, 1, 1, 1}));
}

TEST(LayerLowerings, Relu6IsClipWithScalarBoundsAsInputs) {
  using K = nn::LayerKind;
  nn::LayerGraph g;
  g.arch = "tiny_relu6";
  g.input_size = 8;
  g.num_outputs = 2;
  nn::Conv2dAttrs c;
  c.in_channels = 3;
  c.out_channels = 4;
  c.bias = true;
  auto x = g.add(K::Conv2d, "conv", {g.input}, c);
  x = g.add(K::ReLU6, "act", {x});
  x = g.add(K::AdaptiveAvgPool2d, "avgpool", {x});
  x = g.add(K::Flatten, "flatten", {x}, nn::FlattenAttrs{1});
  g.add(K::Linear, "fc", {x}, nn::LinearAttrs{4, 2, true});
  bind_demo_params(g, 5);
  const auto m = export_model(g, {});
  const auto& clip = node_named(m, "act");
  EXPECT_EQ(clip.op_type(), "Clip");
  EXPECT_EQ(inputs(clip), (std::vector<std::string>{"conv", "act/min", "act/max"}));
  for (const auto& [name, bound] : {std::pair{"act/min", 0.0f}, std::pair{"act/max", 6.0f}}) {
    const auto& init = initializer(m, name);
    EXPECT_EQ(init.dims_size(), 0) << name;  // a scalar, as Clip requires
    EXPECT_EQ(floats(init), std::vector<float>{bound}) << name;
  }
}

TEST(LayerLowerings, MaxPoolCarriesCeilMode) {
  nn::LayerGraph g = models::build("squeezenet1_1", {2, 0.5});
  bind_demo_params(g, 3);
  const auto m = export_model(g, {});
  EXPECT_EQ(attr(node_named(m, "features.2"), "ceil_mode").i(), 1);
  EXPECT_EQ(node_named(m, "features.3").op_type(), "Concat");  // a Fire module's two expand branches
  EXPECT_EQ(attr(node_named(m, "features.3"), "axis").i(), 1);
}

TEST(LayerLowerings, AdaptiveAveragePoolAndPaddedAveragePoolAndTransformInput) {
  // AlexNet's AdaptiveAvgPool2d((6, 6)) meets a 6x6 map at 224: windows of one cell.
  nn::LayerGraph alex = models::build("alexnet", {2, 0.5});
  bind_demo_params(alex, 3);
  const auto a = export_model(alex, {});
  const auto& pool = node_named(a, "avgpool");
  EXPECT_EQ(pool.op_type(), "AveragePool");
  EXPECT_EQ(attr(pool, "kernel_shape").ints_size(), 2);
  EXPECT_EQ(attr(pool, "kernel_shape").ints(0), 1);
  EXPECT_EQ(attr(pool, "strides").ints(1), 1);

  nn::ModelOptions options(2, 0.5);
  options.transform_input = true;
  nn::LayerGraph inception = models::build("inception_v3", options);
  bind_demo_params(inception, 3);
  const auto m = export_model(inception, {});
  // F.avg_pool2d(x, 3, 1, 1) counts the padding, which ONNX's AveragePool does not by default.
  EXPECT_EQ(attr(node_named(m, "Mixed_5b.avg_pool2d"), "count_include_pad").i(), 1);
  EXPECT_EQ(node_named(m, "transform_input.mul").op_type(), "Mul");
  EXPECT_EQ(node_named(m, "transform_input.add").op_type(), "Add");
  const auto scale = floats(initializer(m, "transform_input.scale"));
  const auto shift = floats(initializer(m, "transform_input.shift"));
  ASSERT_EQ(scale.size(), 3U);
  EXPECT_FLOAT_EQ(scale[0], 0.229f / 0.5f);
  EXPECT_FLOAT_EQ(shift[2], (0.406f - 0.5f) / 0.5f);
}

TEST(LayerLowerings, HardsigmoidUsesTorchsSlopeAndOffset) {
  const auto m = export_model(testing::tiny_mixed(), {});
  const auto& n = node_named(m, "hsigmoid");
  EXPECT_EQ(n.op_type(), "HardSigmoid");
  EXPECT_FLOAT_EQ(attr(n, "alpha").f(), 1.0f / 6.0f);
  EXPECT_FLOAT_EQ(attr(n, "beta").f(), 0.5f);
}

TEST(LayerLowerings, HardswishIsHardSwishFromOpset14AndADecompositionBefore) {
  const auto g = testing::tiny_mixed();
  for (int opset : {14, 17}) {
    ExportOptions o;
    o.opset = opset;
    EXPECT_EQ(node_named(export_model(g, o), "hswish").op_type(), "HardSwish") << opset;
  }
  ExportOptions o13;
  o13.opset = 13;
  const auto m = export_model(g, o13);
  const auto& gate = node_named(m, "hswish/HardSigmoid");
  EXPECT_FLOAT_EQ(attr(gate, "alpha").f(), 1.0f / 6.0f);
  EXPECT_FLOAT_EQ(attr(gate, "beta").f(), 0.5f);
  const auto& mul = node_named(m, "hswish");
  EXPECT_EQ(mul.op_type(), "Mul");
  EXPECT_EQ(inputs(mul), (std::vector<std::string>{"bn", "hswish/hardsigmoid"}));
}

TEST(LayerLowerings, MulAndAddReadBothOperands) {
  const auto m = export_model(testing::tiny_efficientnet(), {});
  const auto& mul = node_named(m, "features.1.0.block.1.mul");
  EXPECT_EQ(mul.op_type(), "Mul");
  EXPECT_EQ(inputs(mul), (std::vector<std::string>{"features.1.0.block.0.2", "features.1.0.block.1.scale_activation"}));
  const auto& add = node_named(m, "features.1.0.add");
  EXPECT_EQ(add.op_type(), "Add");
  // The stochastic depth in front of the add is gone: the add reads the folded conv.
  EXPECT_EQ(inputs(add), (std::vector<std::string>{"features.1.0.block.2.1", "features.0.2"}));
}

TEST(LayerLowerings, FlattenAndLinear) {
  const auto g = testing::tiny_efficientnet(3);
  const auto m = export_model(g, {});
  const auto& flat = node_named(m, "flatten");
  EXPECT_EQ(flat.op_type(), "Flatten");
  EXPECT_EQ(attr(flat, "axis").i(), 1);
  const auto& fc = node_named(m, "classifier.1");
  EXPECT_EQ(fc.op_type(), "Gemm");
  EXPECT_EQ(attr(fc, "transB").i(), 1);
  // Dropout is gone: Gemm reads the flatten output and writes the graph output.
  EXPECT_EQ(inputs(fc), (std::vector<std::string>{"flatten", "classifier.1.weight", "classifier.1.bias"}));
  EXPECT_EQ(outputs(fc), (std::vector<std::string>{"logits"}));
  const auto& w = initializer(m, "classifier.1.weight");
  EXPECT_EQ(std::vector<std::int64_t>(w.dims().begin(), w.dims().end()), (std::vector<std::int64_t>{3, 8}));

  const auto mixed = export_model(testing::tiny_mixed(), {});
  EXPECT_EQ(inputs(node_named(mixed, "fc")).size(), 2u);  // bias=False
}

TEST(LayerLowerings, FlattenFromALaterDimensionIsUnsupported) {
  auto g = testing::tiny_mixed();
  for (auto& l : g.layers) {
    if (l.kind == LayerKind::Flatten) l.attrs = nn::FlattenAttrs{2};
  }
  try {
    (void)export_model(g, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
    EXPECT_NE(std::string(e.what()).find("flatten"), std::string::npos) << e.what();
  }
}

TEST(LayerLowerings, UnboundOrMisshapenParametersAreNamed) {
  auto g = testing::tiny_efficientnet();
  g.layers[0].params.erase("weight");
  try {
    (void)export_model(g, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::ExportFailed);
    EXPECT_NE(std::string(e.what()).find("features.0.0.weight"), std::string::npos) << e.what();
  }
  auto h = testing::tiny_efficientnet();
  h.layers.back().params["weight"] = Tensor(DType::Float32, {2, 9});
  try {
    (void)export_model(h, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("classifier.1.weight has shape [2, 9], expected [2, 8]"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace pt2onnx::exporter
