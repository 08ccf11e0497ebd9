// torchvision's RegNet X and Y, every size (torchvision/models/regnet.py, 0.14),
// as layer graphs with torchvision's module paths.
//
// torchvision derives each variant's stage depths, widths and group widths
// from four numbers (BlockParams.from_init_params, in float32 arithmetic);
// the tables below hold what that derivation gives, so no rounding here can
// differ from torch's. tests/oracle/test_export_families.py checks them against
// torchvision's own modules. Bottleneck multiplier 1 and stride 2 in every
// stage; RegNet Y adds squeeze-excitation with a quarter of the block's input
// width.
#include <array>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "models/conv_norm_activation.h"
#include "models/families.h"

namespace pt2onnx::models {
namespace {

using nn::LayerKind;
using nn::ValueId;

struct RegNetVariant {
  std::string_view name;
  std::string_view display;
  std::array<std::int64_t, 4> depths;
  std::array<std::int64_t, 4> widths;
  std::array<std::int64_t, 4> group_widths;
  bool squeeze_excitation;  // RegNet Y
};

constexpr std::array<RegNetVariant, 15> kRegNetVariants{{
    {"regnet_y_400mf", "RegNetY-400MF", {1, 3, 6, 6}, {48, 104, 208, 440}, {8, 8, 8, 8}, true},
    {"regnet_y_800mf", "RegNetY-800MF", {1, 3, 8, 2}, {64, 144, 320, 784}, {16, 16, 16, 16}, true},
    {"regnet_y_1_6gf", "RegNetY-1.6GF", {2, 6, 17, 2}, {48, 120, 336, 888}, {24, 24, 24, 24}, true},
    {"regnet_y_3_2gf", "RegNetY-3.2GF", {2, 5, 13, 1}, {72, 216, 576, 1512}, {24, 24, 24, 24}, true},
    {"regnet_y_8gf", "RegNetY-8GF", {2, 4, 10, 1}, {224, 448, 896, 2016}, {56, 56, 56, 56}, true},
    {"regnet_y_16gf", "RegNetY-16GF", {2, 4, 11, 1}, {224, 448, 1232, 3024}, {112, 112, 112, 112}, true},
    {"regnet_y_32gf", "RegNetY-32GF", {2, 5, 12, 1}, {232, 696, 1392, 3712}, {232, 232, 232, 232}, true},
    {"regnet_y_128gf", "RegNetY-128GF", {2, 7, 17, 1}, {528, 1056, 2904, 7392}, {264, 264, 264, 264}, true},
    {"regnet_x_400mf", "RegNetX-400MF", {1, 2, 7, 12}, {32, 64, 160, 400}, {16, 16, 16, 16}, false},
    {"regnet_x_800mf", "RegNetX-800MF", {1, 3, 7, 5}, {64, 128, 288, 672}, {16, 16, 16, 16}, false},
    {"regnet_x_1_6gf", "RegNetX-1.6GF", {2, 4, 10, 2}, {72, 168, 408, 912}, {24, 24, 24, 24}, false},
    {"regnet_x_3_2gf", "RegNetX-3.2GF", {2, 6, 15, 2}, {96, 192, 432, 1008}, {48, 48, 48, 48}, false},
    {"regnet_x_8gf", "RegNetX-8GF", {2, 5, 15, 1}, {80, 240, 720, 1920}, {80, 120, 120, 120}, false},
    {"regnet_x_16gf", "RegNetX-16GF", {2, 6, 13, 1}, {256, 512, 896, 2048}, {128, 128, 128, 128}, false},
    {"regnet_x_32gf", "RegNetX-32GF", {2, 7, 13, 1}, {336, 672, 1344, 2520}, {168, 168, 168, 168}, false},
}};

constexpr std::int64_t kStemWidth = 32;

// ResBottleneckBlock at `path` ("trunk_output.block2.block2-0"):
// activation(proj(x) + f(x)), f = a (1x1), b (3x3 grouped, strided), [se], c (1x1).
ValueId add_block(nn::LayerGraph& g, const std::string& path, ValueId input, std::int64_t width_in,
                  std::int64_t width_out, std::int64_t stride, std::int64_t group_width, bool squeeze_excitation) {
  const auto p = [&](std::string_view local) { return fmt::format("{}.{}", path, local); };
  ValueId identity = input;
  if (width_in != width_out || stride != 1) {
    identity = add_conv_norm_activation(g, p("proj"), input, {width_in, width_out, 1, stride, 1, 1e-5, std::nullopt});
  }
  const std::int64_t groups = width_out / group_width;
  ValueId x = add_conv_norm_activation(g, p("f.a"), input, {width_in, width_out, 1, 1, 1, 1e-5, LayerKind::ReLU});
  x = add_conv_norm_activation(g, p("f.b"), x, {width_out, width_out, 3, stride, groups, 1e-5, LayerKind::ReLU});
  // int(round(0.25 * width_in)): widths are multiples of 8, so the quarter is whole.
  if (squeeze_excitation) {
    x = add_squeeze_excitation(g, p("f.se"), x, width_out, width_in / 4, LayerKind::ReLU, LayerKind::Sigmoid);
  }
  x = add_conv_norm_activation(g, p("f.c"), x, {width_out, width_out, 1, 1, 1, 1e-5, std::nullopt});
  x = g.add(LayerKind::Add, path, {x, identity});  // the layer graph's order: {branch, shortcut}
  return g.add(LayerKind::ReLU, p("activation"), {x});
}

nn::LayerGraph build_regnet(const RegNetVariant& v, const nn::ModelOptions& options) {
  nn::LayerGraph g;
  g.arch = std::string(v.name);
  g.num_outputs = options.num_outputs;
  ValueId x = add_conv_norm_activation(g, "stem", g.input, {3, kStemWidth, 3, 2, 1, 1e-5, LayerKind::ReLU});
  std::int64_t width = kStemWidth;
  for (std::size_t stage = 0; stage < v.depths.size(); ++stage) {
    for (std::int64_t i = 0; i < v.depths[stage]; ++i) {
      const auto path = fmt::format("trunk_output.block{0}.block{0}-{1}", stage + 1, i);
      x = add_block(g, path, x, width, v.widths[stage], i == 0 ? 2 : 1, v.group_widths[stage], v.squeeze_excitation);
      width = v.widths[stage];
    }
  }
  x = g.add(LayerKind::AdaptiveAvgPool2d, "avgpool", {x});
  x = g.add(LayerKind::Flatten, "flatten", {x}, nn::FlattenAttrs{1});
  g.add(LayerKind::Linear, "fc", {x}, nn::LinearAttrs{width, options.num_outputs, true});
  return g;
}

}  // namespace

void register_regnet(std::vector<Architecture>& out) {
  register_variants(out, kRegNetVariants, "RegNet", build_regnet);
}

}  // namespace pt2onnx::models
