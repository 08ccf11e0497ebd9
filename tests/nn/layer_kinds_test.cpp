// The table of layer kinds (layer_kinds.cpp): names, input counts, expected
// parameters and output sizes, against torch.nn's definitions.
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "nn/layer_graph.h"
#include "pt2onnx/error.h"

namespace pt2onnx::nn {
namespace {

Layer layer_of(LayerKind kind, LayerAttrs attrs = {}) {
  Layer layer;
  layer.kind = kind;
  layer.attrs = std::move(attrs);
  return layer;
}

TEST(LayerKinds, NamesAreDistinct) {
  std::set<std::string> names;
  for (std::size_t k = 0; k < kLayerKindCount; ++k) {
    const auto name = std::string(layer_kind_name(static_cast<LayerKind>(k)));
    EXPECT_FALSE(name.empty() || name == "?") << k;
    EXPECT_TRUE(names.insert(name).second) << name << " names two kinds";
  }
  // torch.nn's class names where a kind is one.
  EXPECT_EQ(layer_kind_name(LayerKind::Conv2d), "Conv2d");
  EXPECT_EQ(layer_kind_name(LayerKind::Hardswish), "Hardswish");
  EXPECT_EQ(layer_kind_name(LayerKind::AdaptiveAvgPool2d), "AdaptiveAvgPool2d");
  EXPECT_EQ(layer_kind_name(LayerKind::Count), "?");
}

TEST(LayerKinds, InputCounts) {
  // Mul and Add are binary; torch.cat takes one tensor or more; every module reads one.
  for (std::size_t k = 0; k < kLayerKindCount; ++k) {
    const auto kind = static_cast<LayerKind>(k);
    const auto name = layer_kind_name(kind);
    if (kind == LayerKind::Mul || kind == LayerKind::Add) {
      EXPECT_FALSE(input_count_fits(kind, 1)) << name;
      EXPECT_TRUE(input_count_fits(kind, 2)) << name;
      EXPECT_FALSE(input_count_fits(kind, 3)) << name;
      EXPECT_EQ(expected_input_count(kind), "2") << name;
    } else if (kind == LayerKind::Concat) {
      EXPECT_FALSE(input_count_fits(kind, 0));
      EXPECT_TRUE(input_count_fits(kind, 1));
      EXPECT_TRUE(input_count_fits(kind, 7));
      EXPECT_EQ(expected_input_count(kind), "1 or more");
    } else {
      EXPECT_FALSE(input_count_fits(kind, 0)) << name;
      EXPECT_TRUE(input_count_fits(kind, 1)) << name;
      EXPECT_FALSE(input_count_fits(kind, 2)) << name;
      EXPECT_EQ(expected_input_count(kind), "1") << name;
    }
  }
  EXPECT_THROW((void)input_count_fits(LayerKind::Count, 1), Error);
}

TEST(LayerKinds, ExpectedParamsAreTorchs) {
  Conv2dAttrs conv;
  conv.in_channels = 32;
  conv.out_channels = 64;
  conv.kernel[0] = conv.kernel[1] = 3;
  conv.groups = 2;
  auto specs = layer_of(LayerKind::Conv2d, conv).expected_params();
  ASSERT_EQ(specs.size(), 1u);
  EXPECT_EQ(specs[0].local_name, "weight");
  EXPECT_EQ(specs[0].shape, (Shape{64, 16, 3, 3}));
  conv.bias = true;
  EXPECT_EQ(layer_of(LayerKind::Conv2d, conv).expected_params().size(), 2u);

  specs = layer_of(LayerKind::BatchNorm2d, BatchNormAttrs{8, 1e-5}).expected_params();
  ASSERT_EQ(specs.size(), 4u);
  EXPECT_EQ(specs[2].local_name, "running_mean");
  EXPECT_TRUE(specs[2].is_buffer);
  EXPECT_FALSE(specs[0].is_buffer);

  specs = layer_of(LayerKind::Linear, LinearAttrs{1280, 10, true}).expected_params();
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].shape, (Shape{10, 1280}));
  EXPECT_EQ(specs[1].shape, (Shape{10}));
  EXPECT_EQ(layer_of(LayerKind::LayerScale, LayerScaleAttrs{96}).expected_params().at(0).shape, (Shape{96, 1, 1}));
  EXPECT_TRUE(layer_of(LayerKind::ReLU).expected_params().empty());
  EXPECT_TRUE(layer_of(LayerKind::Add).expected_params().empty());

  // nn.MultiheadAttention(768, 12): the packed q, k, v projection, then out_proj (a Linear).
  specs = layer_of(LayerKind::MultiheadAttention, AttentionAttrs{768, 12}).expected_params();
  ASSERT_EQ(specs.size(), 4u);
  EXPECT_EQ(specs[0].local_name, "in_proj_weight");
  EXPECT_EQ(specs[0].shape, (Shape{2304, 768}));
  EXPECT_EQ(specs[1].local_name, "in_proj_bias");
  EXPECT_EQ(specs[1].shape, (Shape{2304}));
  EXPECT_EQ(specs[2].local_name, "out_proj.weight");
  EXPECT_EQ(specs[2].shape, (Shape{768, 768}));
  EXPECT_EQ(specs[3].local_name, "out_proj.bias");
  // ViT's bare parameters: torch.zeros(1, 1, D) and torch.empty(1, L, D), keyed by the layer's own path.
  specs = layer_of(LayerKind::ClassToken, TokenAttrs{50, 768}).expected_params();
  ASSERT_EQ(specs.size(), 1u);
  EXPECT_EQ(specs[0].shape, (Shape{1, 1, 768}));
  EXPECT_EQ(state_key("class_token", specs[0].local_name), "class_token");
  specs = layer_of(LayerKind::PositionEmbedding, TokenAttrs{50, 768}).expected_params();
  EXPECT_EQ(specs.at(0).shape, (Shape{1, 50, 768}));
  EXPECT_EQ(state_key("encoder.pos_embedding", specs[0].local_name), "encoder.pos_embedding");
  EXPECT_EQ(state_key("encoder.ln", "weight"), "encoder.ln.weight");
  EXPECT_EQ(layer_of(LayerKind::LayerNorm, LayerNormAttrs{768, 1e-6}).expected_params().at(1).shape, (Shape{768}));
  EXPECT_EQ(layer_of(LayerKind::TokenLinear, LinearAttrs{768, 3072, true}).expected_params().at(0).shape,
            (Shape{3072, 768}));

  // Swin's ShiftedWindowAttention(96, [7, 7], [3, 3], 3): its own bias table and index buffer, then qkv and proj.
  specs = layer_of(LayerKind::WindowAttention, WindowAttrs{.dim = 96, .heads = 3, .window = 7, .shift = 3})
              .expected_params();
  ASSERT_EQ(specs.size(), 6u);
  EXPECT_EQ(specs[0].local_name, "relative_position_bias_table");
  EXPECT_EQ(specs[0].shape, (Shape{169, 3}));
  EXPECT_EQ(specs[1].local_name, "relative_position_index");
  EXPECT_EQ(specs[1].shape, (Shape{2401}));
  EXPECT_TRUE(specs[1].is_buffer && specs[1].integer);
  EXPECT_FALSE(specs[0].integer);
  EXPECT_EQ(specs[2].local_name, "qkv.weight");
  EXPECT_EQ(specs[2].shape, (Shape{288, 96}));
  EXPECT_EQ(specs[5].local_name, "proj.bias");
  // MaxViT's RelativePositionalMultiHeadAttention(64, 32, 49): the same order, its index [49, 49], to_qkv and merge.
  specs = layer_of(LayerKind::GroupAttention, WindowAttrs{.dim = 64, .heads = 2, .window = 7}).expected_params();
  ASSERT_EQ(specs.size(), 6u);
  EXPECT_EQ(specs[0].shape, (Shape{169, 2}));
  EXPECT_EQ(specs[1].shape, (Shape{49, 49}));
  EXPECT_TRUE(specs[1].integer);
  EXPECT_EQ(specs[2].local_name, "to_qkv.weight");
  EXPECT_EQ(specs[4].local_name, "merge.weight");
  // PatchMerging(96): reduction Linear(384, 192, bias=False) before norm LayerNorm(384).
  specs = layer_of(LayerKind::PatchMerging, PatchMergingAttrs{96}).expected_params();
  ASSERT_EQ(specs.size(), 3u);
  EXPECT_EQ(specs[0].local_name, "reduction.weight");
  EXPECT_EQ(specs[0].shape, (Shape{192, 384}));
  EXPECT_EQ(specs[2].local_name, "norm.bias");
  EXPECT_EQ(specs[2].shape, (Shape{384}));
}

// torchvision's ShiftedWindowAttention(4, [2, 2], [0, 0], 1).relative_position_index.
TEST(LayerKinds, RelativePositionIndexIsTorchvisions) {
  EXPECT_EQ(relative_position_index(2), (std::vector<std::int64_t>{4, 3, 1, 0, 5, 4, 2, 1, 7, 6, 4, 3, 8, 7, 5, 4}));
  EXPECT_EQ(relative_position_index(7).size(), 2401u);
}

// torch's state_dict lists a module's own parameters before its children's.
TEST(LayerKinds, ABareParameterComesBeforeTheKeysUnderItsOwner) {
  LayerGraph g;
  ValueId x =
      g.add(LayerKind::Conv2d, "conv_proj", {g.input}, Conv2dAttrs{3, 8, {4, 4}, {4, 4}, {0, 0}, {1, 1}, 1, true});
  x = g.add(LayerKind::PatchTokens, "patch_tokens", {x});
  x = g.add(LayerKind::ClassToken, "class_token", {x}, TokenAttrs{5, 8});
  x = g.add(LayerKind::PositionEmbedding, "encoder.pos_embedding", {x}, TokenAttrs{5, 8});
  g.add(LayerKind::LayerNorm, "encoder.ln", {x}, LayerNormAttrs{8, 1e-6});
  std::vector<std::string> keys;
  for (const auto& [key, spec] : g.expected_state()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"class_token", "conv_proj.weight", "conv_proj.bias",
                                            "encoder.pos_embedding", "encoder.ln.weight", "encoder.ln.bias"}));
}

TEST(LayerKinds, OutputSpatialFollowsTorchsFormula) {
  // floor((224 + 2 * 1 - 3) / 2) + 1 = 112
  Conv2dAttrs conv;
  conv.kernel[0] = conv.kernel[1] = 3;
  conv.stride[0] = conv.stride[1] = 2;
  conv.padding[0] = conv.padding[1] = 1;
  EXPECT_EQ(layer_of(LayerKind::Conv2d, conv).output_spatial({224, 224}), (std::array<std::int64_t, 2>{112, 112}));
  // MaxPool2d(3, 2) on 112: 55 windows, 56 in ceil mode.
  PoolAttrs pool;
  pool.kernel[0] = pool.kernel[1] = 3;
  pool.stride[0] = pool.stride[1] = 2;
  EXPECT_EQ(layer_of(LayerKind::MaxPool2d, pool).output_spatial({112, 112}), (std::array<std::int64_t, 2>{55, 55}));
  pool.ceil_mode = true;
  EXPECT_EQ(layer_of(LayerKind::MaxPool2d, pool).output_spatial({112, 112}), (std::array<std::int64_t, 2>{56, 56}));
  EXPECT_EQ(layer_of(LayerKind::AdaptiveAvgPool2d).output_spatial({7, 7}), (std::array<std::int64_t, 2>{1, 1}));
  EXPECT_EQ(layer_of(LayerKind::ReLU).output_spatial({7, 9}), (std::array<std::int64_t, 2>{7, 9}));
  EXPECT_EQ(layer_of(LayerKind::Flatten).output_spatial({7, 7}), std::nullopt);
  EXPECT_EQ(layer_of(LayerKind::Linear, LinearAttrs{}).output_spatial({7, 7}), std::nullopt);
  // Patches' tokens are still a grid, until a class token joins them; PatchMerging pads an odd side.
  EXPECT_EQ(layer_of(LayerKind::PatchTokens).output_spatial({56, 56}), (std::array<std::int64_t, 2>{56, 56}));
  EXPECT_EQ(layer_of(LayerKind::ClassToken, TokenAttrs{}).output_spatial({7, 7}), std::nullopt);
  EXPECT_EQ(layer_of(LayerKind::PatchMerging, PatchMergingAttrs{}).output_spatial({25, 24}),
            (std::array<std::int64_t, 2>{13, 12}));
  EXPECT_EQ(layer_of(LayerKind::TokenMean).output_spatial({7, 7}), std::nullopt);
}

}  // namespace
}  // namespace pt2onnx::nn
