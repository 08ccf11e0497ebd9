#include "exporter/onnx_export.h"

#include <functional>
#include <set>

#include <fmt/format.h>

#include <gtest/gtest.h>

#include "vision/preprocess_metadata.h"

#include "exporter/metadata.h"
#include "exporter/onnx_shapes.h"
#include "graph_fixtures.h"
#include "onnx_test_helpers.h"
#include "pt2onnx/error.h"

namespace pt2onnx::exporter {
namespace {

using testing::metadata;
using testing::op_counts;

void expect_error(ErrorKind kind, const std::string& fragment, const std::function<void()>& fn) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one containing: " << fragment;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

class EveryOpset : public ::testing::TestWithParam<int> {};

TEST_P(EveryOpset, ExportPassesTheFullCheckWithTheSeedsInterface) {
  ExportOptions o;
  o.opset = GetParam();
  for (const auto& g : {testing::tiny_efficientnet(2), testing::tiny_mixed(3)}) {
    SCOPED_TRACE(g.arch);
    const auto m = export_model(g, o);
    EXPECT_EQ(m.ir_version(), o.opset <= 14 ? 7 : 8);
    ASSERT_EQ(m.opset_import_size(), 1);
    EXPECT_EQ(m.opset_import(0).domain(), "");
    EXPECT_EQ(m.opset_import(0).version(), o.opset);
    EXPECT_NO_THROW(check_exported_model(m, 3, 16, g.num_outputs));
    ASSERT_EQ(m.graph().input_size(), 1);
    ASSERT_EQ(m.graph().output_size(), 1);
    EXPECT_EQ(m.graph().input(0).name(), "image");
    EXPECT_EQ(describe_shape(m.graph().input(0).type()), "[batch, 3, 16, 16]");
    EXPECT_EQ(m.graph().output(0).name(), "logits");
    EXPECT_EQ(describe_shape(m.graph().output(0).type()), fmt::format("[batch, {}]", g.num_outputs));
    EXPECT_EQ(describe_elem_type(m.graph().input(0).type().tensor_type().elem_type()), "float32");
  }
}

INSTANTIATE_TEST_SUITE_P(Opsets, EveryOpset, ::testing::Range(kMinOpset, kMaxOpset + 1));

TEST(OnnxExport, OpsetsOutsideTheRangeAreUsageErrors) {
  for (int opset : {12, 18}) {
    ExportOptions o;
    o.opset = opset;
    expect_error(ErrorKind::Usage, "choose 13 to 17", [&] { (void)export_model(testing::tiny_efficientnet(), o); });
  }
}

TEST(OnnxExport, EvalModeLeavesNoDropoutIdentityOrBatchNormalization) {
  const auto m = export_model(testing::tiny_efficientnet(), {});
  const auto ops = op_counts(m);
  for (const char* op : {"Dropout", "Identity", "BatchNormalization"}) EXPECT_FALSE(ops.contains(op)) << op;
  EXPECT_EQ(ops.at("Conv"), 5);
  EXPECT_EQ(ops.at("Sigmoid"), 4);  // three SiLU gates and the SE scale
  EXPECT_EQ(ops.at("Mul"), 4);      // three SiLU products and the SE multiply
}

TEST(OnnxExport, NamesAreModulePathsAndInitializersAreNotInputs) {
  const auto g = testing::tiny_efficientnet();
  const auto m = export_model(g, {});
  std::set<std::string> paths;
  for (const auto& l : g.layers) paths.insert(l.path);
  std::set<std::string> node_names;
  for (const auto& n : m.graph().node()) {
    const auto path = n.name().substr(0, n.name().find('/'));
    EXPECT_TRUE(paths.contains(path)) << n.name();
    EXPECT_TRUE(node_names.insert(n.name()).second) << "repeated node name " << n.name();
  }
  for (const auto& t : m.graph().initializer()) {
    const auto dot = t.name().rfind('.');
    ASSERT_NE(dot, std::string::npos) << t.name();
    EXPECT_TRUE(paths.contains(t.name().substr(0, dot))) << t.name();
    for (const auto& in : m.graph().input()) EXPECT_NE(in.name(), t.name());
  }
  EXPECT_EQ(m.graph().initializer_size(), 12);  // 5 conv weights, 5 conv biases, linear weight and bias
}

TEST(OnnxExport, ProducerAndMetadata) {
  const auto g = testing::tiny_efficientnet(2);
  ExportOptions o;
  o.labels = std::vector<std::string>{"biopsy", "magview"};
  o.checkpoint_file = "model.pth";
  o.checkpoint_sha256 = std::string(64, 'a');
  o.checkpoint_key = "model_state_dict";
  const auto m = export_model(g, o);
  EXPECT_EQ(m.producer_name(), "pt2onnx");
  EXPECT_EQ(m.producer_version(), PT2ONNX_VERSION);
  const auto md = metadata(m);
  const std::map<std::string, std::string> expected{
      {"pt2onnx.format", "1"},
      {"pt2onnx.arch", "tiny_efficientnet"},
      {"pt2onnx.num_outputs", "2"},
      {"pt2onnx.labels", "biopsy,magview"},
      {"pt2onnx.input_size", "16x16"},
      {"pt2onnx.dropout", "0.4"},
      {"pt2onnx.preprocess.resize", "16x16"},
      {"pt2onnx.preprocess.crop", "none"},
      {"pt2onnx.preprocess.interpolation", "bilinear"},
      {"pt2onnx.preprocess.mean", "0.485,0.456,0.406"},
      {"pt2onnx.preprocess.std", "0.229,0.224,0.225"},
      {"pt2onnx.preprocess.color", "RGB"},
      {"pt2onnx.checkpoint.file", "model.pth"},
      {"pt2onnx.checkpoint.sha256", std::string(64, 'a')},
      {"pt2onnx.checkpoint.key", "model_state_dict"},
  };
  EXPECT_EQ(md, expected);
}

TEST(OnnxExport, MetadataWithoutLabelsOrProvenanceOmitsThoseKeys) {
  const auto md = metadata(export_model(testing::tiny_efficientnet(), {}));
  for (const char* key :
       {"pt2onnx.labels", "pt2onnx.checkpoint.file", "pt2onnx.checkpoint.sha256", "pt2onnx.checkpoint.key"}) {
    EXPECT_FALSE(md.contains(key)) << key;
  }
}

TEST(OnnxExport, LabelsMustFitTheOutputs) {
  const auto g = testing::tiny_efficientnet(2);
  ExportOptions o;
  o.labels = std::vector<std::string>{"a", "b", "c"};
  expect_error(ErrorKind::Usage, "3 label names given (a,b,c) but the model has 2 outputs",
               [&] { (void)export_model(g, o); });
  o.labels = std::vector<std::string>{"a,b", "c"};
  expect_error(ErrorKind::Usage, "contains ','", [&] { (void)export_model(g, o); });
}

TEST(OnnxExport, PreprocessingMustGiveTheInputSize) {
  ExportOptions o;
  o.preprocessing = vision::PreprocessSpec{};
  o.preprocessing->crop = vision::Size2{20, 20};
  expect_error(ErrorKind::Usage, "preprocessing gives 20x20 images but the model's input size is 16x16",
               [&] { (void)export_model(testing::tiny_efficientnet(), o); });
  ExportOptions shorter;
  shorter.preprocessing = vision::PreprocessSpec{};
  shorter.preprocessing->resize.mode = vision::ResizeSpec::Mode::ShorterSide;
  shorter.preprocessing->resize.shorter_side = 18;
  expect_error(ErrorKind::Usage, "needs a --crop", [&] { (void)export_model(testing::tiny_efficientnet(), shorter); });
  shorter.preprocessing->crop = vision::Size2{16, 16};
  const auto md = metadata(export_model(testing::tiny_efficientnet(), shorter));
  EXPECT_EQ(md.at("pt2onnx.preprocess.resize"), "18");
  EXPECT_EQ(md.at("pt2onnx.preprocess.crop"), "16x16");
  // What export writes, infer reads back unchanged.
  const auto spec = vision::preprocess_spec_from_metadata(md);
  EXPECT_EQ(spec.resize.shorter_side, 18);
  EXPECT_EQ(spec.crop, (vision::Size2{16, 16}));
  EXPECT_EQ(spec.mean, (std::array<float, 3>{0.485f, 0.456f, 0.406f}));
}

TEST(OnnxExport, TheCheckRejectsBrokenModelsSayingWhichStepFailed) {
  const auto g = testing::tiny_efficientnet(2);
  const auto good = export_model(g, {});
  expect_error(ErrorKind::ExportFailed,
               "shape inference gives output 'logits' the shape [batch, 2], expected [batch, 5]",
               [&] { check_exported_model(good, 3, 16, 5); });
  expect_error(ErrorKind::ExportFailed, "input 'image' is [batch, 3, 16, 16], expected [batch, 3, 32, 32]",
               [&] { check_exported_model(good, 3, 32, 2); });

  auto no_opset = good;  // structural: an IR-8 model must import an opset
  no_opset.clear_opset_import();
  expect_error(ErrorKind::ExportFailed, "ONNX checker", [&] { check_exported_model(no_opset, 3, 16, 2); });

  // Shape inference: the squeeze-excitation scale gets 5 channels, which the
  // Mul cannot broadcast against the block's 8.
  auto bad_weight = good;
  for (auto& t : *bad_weight.mutable_graph()->mutable_initializer()) {
    if (t.name() == "features.1.0.block.1.fc2.weight") {
      t.set_dims(0, 5);
      t.mutable_raw_data()->resize(5 * 2 * sizeof(float));
    }
    if (t.name() == "features.1.0.block.1.fc2.bias") {
      t.set_dims(0, 5);
      t.mutable_raw_data()->resize(5 * sizeof(float));
    }
  }
  expect_error(ErrorKind::ExportFailed, "shape inference", [&] { check_exported_model(bad_weight, 3, 16, 2); });

  auto declared_wrong = good;  // a declared output shape that inference contradicts
  declared_wrong.mutable_graph()
      ->mutable_output(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(1)
      ->set_dim_value(7);
  expect_error(ErrorKind::ExportFailed, "output 'logits' is declared [batch, 7], expected [batch, 2]",
               [&] { check_exported_model(declared_wrong, 3, 16, 2); });
}

TEST(OnnxExport, SameGraphSameBytes) {
  const auto a = export_model(testing::tiny_efficientnet(), {}).SerializeAsString();
  const auto b = export_model(testing::tiny_efficientnet(), {}).SerializeAsString();
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace pt2onnx::exporter
