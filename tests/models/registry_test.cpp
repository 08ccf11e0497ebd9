#include "models/registry.h"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pt2onnx/error.h"
#include "support/fake_state.h"

namespace pt2onnx::models {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using testing::fake_state;
using testing::find_mutable;
using ::testing::HasSubstr;
using ::testing::Not;

Error bind_failure(std::string_view arch, const checkpoint::StateDict& state) {
  try {
    (void)build_and_bind(arch, state, 0.4);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "build_and_bind accepted the state dict as " << arch;
  return Error(ErrorKind::Internal, "");
}

TEST(Registry, ListsEveryArchitectureExplicitly) {
  const std::vector<std::string> expected{"efficientnet_b0",
                                          "efficientnet_b1",
                                          "efficientnet_b2",
                                          "efficientnet_b3",
                                          "efficientnet_b4",
                                          "efficientnet_b5",
                                          "efficientnet_b6",
                                          "efficientnet_b7",
                                          "efficientnet_v2_s",
                                          "efficientnet_v2_m",
                                          "efficientnet_v2_l",
                                          "resnet18",
                                          "resnet34",
                                          "resnet50",
                                          "resnet101",
                                          "resnet152",
                                          "resnext50_32x4d",
                                          "resnext101_32x8d",
                                          "resnext101_64x4d",
                                          "wide_resnet50_2",
                                          "wide_resnet101_2",
                                          "mobilenet_v2",
                                          "mobilenet_v3_large",
                                          "mobilenet_v3_small",
                                          "regnet_y_400mf",
                                          "regnet_y_800mf",
                                          "regnet_y_1_6gf",
                                          "regnet_y_3_2gf",
                                          "regnet_y_8gf",
                                          "regnet_y_16gf",
                                          "regnet_y_32gf",
                                          "regnet_y_128gf",
                                          "regnet_x_400mf",
                                          "regnet_x_800mf",
                                          "regnet_x_1_6gf",
                                          "regnet_x_3_2gf",
                                          "regnet_x_8gf",
                                          "regnet_x_16gf",
                                          "regnet_x_32gf",
                                          "densenet121",
                                          "densenet161",
                                          "densenet169",
                                          "densenet201",
                                          "squeezenet1_0",
                                          "squeezenet1_1",
                                          "mnasnet0_5",
                                          "mnasnet0_75",
                                          "mnasnet1_0",
                                          "mnasnet1_3",
                                          "alexnet",
                                          "vgg11",
                                          "vgg11_bn",
                                          "vgg13",
                                          "vgg13_bn",
                                          "vgg16",
                                          "vgg16_bn",
                                          "vgg19",
                                          "vgg19_bn",
                                          "googlenet",
                                          "inception_v3",
                                          "shufflenet_v2_x0_5",
                                          "shufflenet_v2_x1_0",
                                          "shufflenet_v2_x1_5",
                                          "shufflenet_v2_x2_0",
                                          "convnext_tiny",
                                          "convnext_small",
                                          "convnext_base",
                                          "convnext_large",
                                          "vit_b_16",
                                          "vit_b_32",
                                          "vit_l_16",
                                          "vit_l_32",
                                          "vit_h_14",
                                          "swin_t",
                                          "swin_s",
                                          "swin_b",
                                          "maxvit_t"};
  EXPECT_THAT(architectures(), ElementsAreArray(expected));
}

// Swin's attention windows follow the token grid: at 200 the grids are
// 50, 25, 13 and 7 (PatchMerging pads 25 to 26), each layer told its input's.
TEST(Registry, AnotherImageSizeResizesSwinsTokenGrids) {
  auto g = build("swin_t", {2, 0.0});
  resize_input(g, 200, false);
  std::vector<std::int64_t> attention, merging;
  for (const auto& layer : g.layers) {
    if (layer.kind == nn::LayerKind::WindowAttention) {
      const auto& a = layer.as<nn::WindowAttrs>();
      EXPECT_EQ(a.grid[0], a.grid[1]);
      if (attention.empty() || attention.back() != a.grid[0]) attention.push_back(a.grid[0]);
    }
    if (layer.kind == nn::LayerKind::PatchMerging) merging.push_back(layer.as<nn::PatchMergingAttrs>().grid[1]);
  }
  EXPECT_EQ(attention, (std::vector<std::int64_t>{50, 25, 13, 7}));
  EXPECT_EQ(merging, (std::vector<std::int64_t>{50, 25, 13}));
  EXPECT_EQ(g.input_size, 200);
}

// MaxViT's blocks partition their maps into 7x7 groups: 256 gives a 64x64
// first block, which torchvision refuses too; 448 gives 112, 56, 28 and 14.
TEST(Registry, MaxVitTakesOnlySizesItsPartitionsDivide) {
  auto g = build("maxvit_t", {2, 0.0});
  try {
    resize_input(g, 256, false);
    FAIL() << "resized MaxViT-T to 256";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    EXPECT_THAT(e.what(), HasSubstr("layer blocks.0.layers.0.layers.window_attention.partition_op has a 64x64 map"));
  }
  g = build("maxvit_t", {2, 0.0});
  resize_input(g, 448, false);
  std::vector<std::int64_t> maps;
  for (const auto& layer : g.layers) {
    if (layer.kind != nn::LayerKind::Partition) continue;
    const auto side = layer.as<nn::PartitionAttrs>().grid[0];
    if (maps.empty() || maps.back() != side) maps.push_back(side);
  }
  EXPECT_EQ(maps, (std::vector<std::int64_t>{112, 56, 28, 14}));
}

TEST(Registry, UnknownArchitectureIsAUsageErrorNamingTheKnownOnes) {
  try {
    (void)build("efficientnet_b9", {2, 0.2});
    FAIL() << "built an unknown architecture";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    EXPECT_THAT(e.what(), HasSubstr("unknown architecture 'efficientnet_b9'"));
    EXPECT_THAT(e.what(), HasSubstr("efficientnet_b0, efficientnet_b1"));
    EXPECT_THAT(e.what(), HasSubstr("resnet18"));
  }
  EXPECT_THROW((void)build_and_bind("vgg16", {}, 0.2), Error);
}

bool has_transform_input(const nn::LayerGraph& g) {
  return std::any_of(g.layers.begin(), g.layers.end(),
                     [](const nn::Layer& l) { return l.kind == nn::LayerKind::ChannelAffine; });
}

// GoogLeNet's auxiliary classifiers run only in training: their tensors are
// dropped with a note, and their presence says how the model was built
// (torchvision turns transform_input on exactly when it loads weights, and
// then drops the auxiliary classifiers), unless the user says.
TEST(Registry, TrainingOnlyTensorsAreDroppedWithANoteAndDecideTransformInput) {
  auto state = fake_state(build("googlenet", {2, 0.2}));
  const nn::LayerGraph plain = build_and_bind("googlenet", state, 0.2);
  EXPECT_TRUE(has_transform_input(plain));
  EXPECT_THAT(plain.notes, ElementsAre(HasSubstr("transform_input is on: the checkpoint has no auxiliary")));

  state.entries.emplace_back("aux1.fc2.weight", Tensor(DType::Float32, {2, 1024}));
  state.entries.emplace_back("aux2.conv.bn.running_var", Tensor(DType::Float32, {128}));
  const nn::LayerGraph with_aux = build_and_bind("googlenet", state, 0.2);
  EXPECT_FALSE(has_transform_input(with_aux));
  EXPECT_THAT(with_aux.notes, ElementsAre(HasSubstr("transform_input is off: the checkpoint has auxiliary"),
                                          "dropped 2 tensors of aux1, aux2 (used only in training; eval never "
                                          "runs them)"));
  EXPECT_TRUE(has_transform_input(build_and_bind("googlenet", state, 0.2, {true, std::nullopt})));
  EXPECT_THAT(build_and_bind("googlenet", state, 0.2, {true, std::nullopt}).notes[0],
              HasSubstr("transform_input is on: as --transform-input asks"));

  // A key that only starts like a training-only path is still unexpected.
  state.entries.emplace_back("aux10.weight", Tensor(DType::Float32, {2}));
  EXPECT_THAT(bind_failure("googlenet", state).what(), HasSubstr("unexpected key: aux10.weight"));
}

TEST(Registry, ReadsTheOutputCountFromTheCheckpoint) {
  for (std::int64_t n : {1, 2, 3, 1000}) {
    const auto state = fake_state(build("efficientnet_b0", {n, 0.2}));
    const nn::LayerGraph g = build_and_bind("efficientnet_b0", state, 0.4);
    EXPECT_EQ(g.num_outputs, n);
    EXPECT_EQ(g.layers.back().params.at("weight").shape(), (Shape{n, 1280}));
    EXPECT_DOUBLE_EQ(g.layers[g.layers.size() - 2].as<nn::DropoutAttrs>().p, 0.4);
  }
  const nn::LayerGraph r = build_and_bind("resnet18", fake_state(build("resnet18", {7, 0.0})), 0.0);
  EXPECT_EQ(r.num_outputs, 7);
}

TEST(Registry, RecognisesEfficientNetB1) {
  const auto state = fake_state(build("efficientnet_b1", {2, 0.2}));
  const Error e = bind_failure("efficientnet_b0", state);
  EXPECT_EQ(e.kind(), ErrorKind::ArchMismatch);
  EXPECT_THAT(e.what(), HasSubstr("does not fit efficientnet_b0"));
  EXPECT_THAT(e.what(), HasSubstr("unexpected keys: features.1.1.block.0.0.weight"));
  EXPECT_THAT(e.what(), HasSubstr("This looks like efficientnet_b1: all 439 of its tensors fit."));
}

TEST(Registry, TellsEfficientNetB1FromB2ByShape) {
  // b1 and b2 have the same keys; only the widths tell them apart.
  const auto state = fake_state(build("efficientnet_b2", {3, 0.2}));
  EXPECT_THAT(bind_failure("efficientnet_b1", state).what(), HasSubstr("This looks like efficientnet_b2"));
}

TEST(Registry, RecognisesResNet18) {
  const auto state = fake_state(build("resnet18", {2, 0.0}));
  const Error e = bind_failure("efficientnet_b0", state);
  EXPECT_THAT(e.what(), HasSubstr("0 of 311 expected tensors match"));
  EXPECT_THAT(e.what(), HasSubstr("311 missing keys: features.0.0.weight"));
  EXPECT_THAT(e.what(), HasSubstr("122 unexpected keys: conv1.weight"));
  // Its num_batches_tracked are unexpected too: b0 has no BatchNorm at those paths, as torch would say.
  EXPECT_THAT(e.what(), HasSubstr("This looks like resnet18: all 102 of its tensors fit."));
}

TEST(Registry, NamesTheClearlyClosestArchitecture) {
  auto state = fake_state(build("resnet18", {2, 0.0}));
  *find_mutable(state, "layer1.0.conv1.weight") = Tensor(DType::Float32, {64, 64, 1, 1});
  EXPECT_THAT(bind_failure("efficientnet_b0", state).what(),
              HasSubstr("It is closest to resnet18: 101 of its 102 tensors fit."));
}

TEST(Registry, StaysQuietWhenNothingStandsOut) {
  // A damaged b0 checkpoint asked for as b0: b0 itself is the closest, so no other name is offered.
  auto state = fake_state(build("efficientnet_b0", {2, 0.2}));
  *find_mutable(state, "features.0.0.weight") = Tensor(DType::Float32, {32, 3, 5, 5});
  const Error e = bind_failure("efficientnet_b0", state);
  EXPECT_THAT(e.what(), HasSubstr("features.0.0.weight is [32, 3, 5, 5] in the checkpoint, [32, 3, 3, 3] expected"));
  EXPECT_THAT(e.what(), Not(HasSubstr("looks like")));
  EXPECT_THAT(e.what(), Not(HasSubstr("closest")));

  checkpoint::StateDict unrelated;
  unrelated.entries.emplace_back("encoder.weight", Tensor(DType::Float32, {4, 4}));
  const Error u = bind_failure("resnet18", unrelated);
  EXPECT_THAT(u.what(), Not(HasSubstr("looks like")));
  EXPECT_THAT(u.what(), Not(HasSubstr("closest")));
}

// Every registered architecture is told from every other by names and shapes
// alone (torchvision's own names are checked against these graphs in
// tests/oracle/test_export_families.py).
TEST(Registry, DetectsEachArchitectureFromItsTensorsAlone) {
  for (const auto& arch : architectures()) {
    const auto detection = detect_architecture(fake_state(build(arch, {3, 0.2})));
    EXPECT_EQ(detection.arch, arch);
    EXPECT_THAT(detection.reason, HasSubstr("of its tensors fit by name and shape; no other architecture's do"));
  }
}

TEST(Registry, AnUnknownModelIsUnsupportedAndTheNearestFamilyIsNamed) {
  auto state = fake_state(build("resnet18", {2, 0.0}));
  *find_mutable(state, "layer1.0.conv1.weight") = Tensor(DType::Float32, {64, 64, 1, 1});
  try {
    (void)detect_architecture(state);
    FAIL() << "detected an architecture for a changed ResNet-18";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
    EXPECT_THAT(e.what(), HasSubstr("fits none of the architectures pt2onnx rebuilds (families: EfficientNet, "
                                    "ResNet, MobileNet, RegNet, DenseNet, SqueezeNet, MNASNet, AlexNet, VGG, "
                                    "GoogLeNet, Inception, ShuffleNet, ConvNeXt, ViT, Swin, MaxViT)"));
    EXPECT_THAT(e.what(), HasSubstr("The nearest is resnet18 (ResNet)"));
    EXPECT_THAT(e.what(), HasSubstr("layer1.0.conv1.weight is [64, 64, 1, 1] in the checkpoint, [64, 64, 3, 3]"));
    EXPECT_THAT(e.what(), HasSubstr("torch.onnx.export"));
  }
  checkpoint::StateDict unrelated;
  unrelated.entries.emplace_back("encoder.weight", Tensor(DType::Float32, {4, 4}));
  try {
    (void)detect_architecture(unrelated);
    FAIL() << "detected an architecture for an unrelated state dict";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
    EXPECT_THAT(e.what(), Not(HasSubstr("nearest")));  // nothing matches at all: no family is offered
  }
}

TEST(Registry, DisplayNamesAreHowPeopleWriteThem) {
  EXPECT_EQ(display_name("efficientnet_b0"), "EfficientNet-B0");
  EXPECT_EQ(display_name("efficientnet_b7"), "EfficientNet-B7");
  EXPECT_EQ(display_name("resnet18"), "ResNet-18");
  EXPECT_EQ(display_name("resnet152"), "ResNet-152");
  EXPECT_EQ(display_name("resnext50_32x4d"), "ResNeXt-50 32x4d");
  EXPECT_EQ(display_name("wide_resnet101_2"), "Wide ResNet-101-2");
  EXPECT_EQ(display_name("mobilenet_v3_small"), "MobileNet-V3-Small");
  EXPECT_EQ(display_name("regnet_x_1_6gf"), "RegNetX-1.6GF");
  EXPECT_EQ(display_name("vgg16_bn"), "VGG-16-BN");
  EXPECT_EQ(display_name("vit_b_32"), "ViT-B/32");
  EXPECT_EQ(display_name("swin_t"), "Swin-T");
  EXPECT_EQ(display_name("maxvit_t"), "MaxViT-T");
  EXPECT_EQ(display_name("swin_v2_t"), "swin_v2_t");  // not built here: as given
  for (const auto& arch : architectures()) EXPECT_NE(display_name(arch), arch) << arch;
}

}  // namespace
}  // namespace pt2onnx::models
