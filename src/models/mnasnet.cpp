// torchvision's MNASNet 0.5, 0.75, 1.0 and 1.3 (torchvision/models/mnasnet.py,
// 0.14; the B1 variant, state-dict version 2) as layer graphs with
// torchvision's module paths.
//
// Everything is in one nn.Sequential `layers`: a stem of plain Conv2d,
// BatchNorm2d, ReLU modules (layers.0-7), six stacks of inverted residuals
// (layers.8-13, each a Sequential of blocks whose own Sequential is
// `layers`), and a last 1x1 conv to 1280 (layers.14-16). forward() then
// takes x.mean([2, 3]) and applies classifier = Sequential(Dropout, Linear).
#include <array>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "models/conv_norm_activation.h"
#include "models/families.h"
#include "models/scaling.h"

namespace pt2onnx::models {
namespace {

using nn::LayerKind;
using nn::ValueId;

constexpr std::int64_t kMnasLastChannels = 1280;
// nn.BatchNorm2d's default eps; MNASNet changes only the momentum.
constexpr double kMnasEps = 1e-5;

struct MnasNetVariant {
  std::string_view name;
  std::string_view display;
  double alpha;
};

const std::array<MnasNetVariant, 4> kMnasNetVariants{{
    {"mnasnet0_5", "MNASNet-0.5", 0.5},
    {"mnasnet0_75", "MNASNet-0.75", 0.75},
    {"mnasnet1_0", "MNASNet-1.0", 1.0},
    {"mnasnet1_3", "MNASNet-1.3", 1.3},
}};

// _stack(in, out, kernel, stride, expansion, repeats) for depths[i] -> depths[i + 1].
struct MnasStack {
  std::int64_t kernel, stride, expansion, repeats;
};
constexpr std::array<MnasStack, 6> kMnasStacks{{
    {3, 2, 3, 3},
    {5, 2, 3, 3},
    {5, 2, 6, 3},
    {3, 1, 6, 2},
    {5, 2, 6, 4},
    {3, 1, 6, 1},
}};

// Conv2d, BatchNorm2d[, ReLU] as separate entries of one Sequential, from
// index `index` on; returns the output and advances `index`.
ValueId add_mnas_conv_bn(nn::LayerGraph& g, const std::string& prefix, int& index, ValueId x,
                         const nn::Conv2dAttrs& conv, bool relu) {
  x = g.add(LayerKind::Conv2d, fmt::format("{}.{}", prefix, index++), {x}, conv);
  x = g.add(LayerKind::BatchNorm2d, fmt::format("{}.{}", prefix, index++), {x},
            nn::BatchNormAttrs{conv.out_channels, kMnasEps});
  if (relu) x = g.add(LayerKind::ReLU, fmt::format("{}.{}", prefix, index++), {x});
  return x;
}

// mnasnet._InvertedResidual at `path`: expand 1x1, depthwise, project 1x1.
ValueId add_mnas_block(nn::LayerGraph& g, const std::string& path, ValueId input, std::int64_t in, std::int64_t out,
                       std::int64_t kernel, std::int64_t stride, std::int64_t expansion) {
  const std::int64_t mid = in * expansion;
  const std::string seq = path + ".layers";
  int index = 0;
  ValueId x = add_mnas_conv_bn(g, seq, index, input, conv2d_attrs(in, mid, 1), true);
  x = add_mnas_conv_bn(g, seq, index, x, conv2d_attrs(mid, mid, kernel, stride, kernel / 2, mid), true);
  x = add_mnas_conv_bn(g, seq, index, x, conv2d_attrs(mid, out, 1), false);
  if (in == out && stride == 1) x = g.add(LayerKind::Add, path, {x, input});
  return x;
}

nn::LayerGraph build_mnasnet(const MnasNetVariant& v, const nn::ModelOptions& options) {
  constexpr std::array<double, 8> kBaseDepths{32, 16, 24, 40, 80, 96, 192, 320};
  std::array<std::int64_t, 8> depths{};
  for (std::size_t i = 0; i < depths.size(); ++i) depths[i] = make_divisible(kBaseDepths[i] * v.alpha, 8);

  nn::LayerGraph g;
  g.arch = std::string(v.name);
  g.num_outputs = options.num_outputs;
  int index = 0;
  ValueId x = add_mnas_conv_bn(g, "layers", index, g.input, conv2d_attrs(3, depths[0], 3, 2, 1), true);
  x = add_mnas_conv_bn(g, "layers", index, x, conv2d_attrs(depths[0], depths[0], 3, 1, 1, depths[0]), true);
  x = add_mnas_conv_bn(g, "layers", index, x, conv2d_attrs(depths[0], depths[1], 1), false);
  for (std::size_t s = 0; s < kMnasStacks.size(); ++s) {
    const auto& st = kMnasStacks[s];
    const std::string stack = fmt::format("layers.{}", index++);
    for (std::int64_t r = 0; r < st.repeats; ++r) {
      const std::int64_t in = r == 0 ? depths[s + 1] : depths[s + 2];
      x = add_mnas_block(g, fmt::format("{}.{}", stack, r), x, in, depths[s + 2], st.kernel, r == 0 ? st.stride : 1,
                         st.expansion);
    }
  }
  x = add_mnas_conv_bn(g, "layers", index, x, conv2d_attrs(depths[7], kMnasLastChannels, 1), true);
  x = g.add(LayerKind::AdaptiveAvgPool2d, "mean", {x});
  x = g.add(LayerKind::Flatten, "flatten", {x}, nn::FlattenAttrs{1});
  x = g.add(LayerKind::Dropout, "classifier.0", {x}, nn::DropoutAttrs{options.dropout});
  g.add(LayerKind::Linear, "classifier.1", {x}, nn::LinearAttrs{kMnasLastChannels, options.num_outputs, true});
  return g;
}

}  // namespace

void register_mnasnet(std::vector<Architecture>& out) {
  register_variants(out, kMnasNetVariants, "MNASNet", build_mnasnet);
}

}  // namespace pt2onnx::models
