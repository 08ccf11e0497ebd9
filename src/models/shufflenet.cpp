// torchvision's ShuffleNet V2 x0.5, x1.0, x1.5 and x2.0 (torchvision/models/
// shufflenetv2.py, 0.14) as layer graphs with torchvision's module paths.
//
// A stride-1 block splits its input with x.chunk(2, dim=1) (the ChannelSlice
// layers "<block>.chunk.0" and ".chunk.1"), runs branch2 on the second half and
// concatenates; a stride-2 block concatenates branch1 and branch2 of the whole
// input. Both end in channel_shuffle(out, 2) ("<block>.channel_shuffle"); the
// torch.cat is "<block>.cat". forward() ends with x.mean([2, 3]) and fc.
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

constexpr std::array<std::int64_t, 3> kShuffleRepeats{4, 8, 4};

struct ShuffleNetVariant {
  std::string_view name;
  std::string_view display;
  std::array<std::int64_t, 5> channels;  // stages_out_channels
};

const std::array<ShuffleNetVariant, 4> kShuffleNetVariants{{
    {"shufflenet_v2_x0_5", "ShuffleNet-V2-x0.5", {24, 48, 96, 192, 1024}},
    {"shufflenet_v2_x1_0", "ShuffleNet-V2-x1.0", {24, 116, 232, 464, 1024}},
    {"shufflenet_v2_x1_5", "ShuffleNet-V2-x1.5", {24, 176, 352, 704, 1024}},
    {"shufflenet_v2_x2_0", "ShuffleNet-V2-x2.0", {24, 244, 488, 976, 2048}},
}};

// Conv2d, BatchNorm2d[, ReLU] as entries `first`, first + 1[, first + 2] of a Sequential.
ValueId add_shuffle_conv_bn(nn::LayerGraph& g, const std::string& seq, int first, ValueId x,
                            const nn::Conv2dAttrs& conv, bool relu) {
  x = g.add(LayerKind::Conv2d, fmt::format("{}.{}", seq, first), {x}, conv);
  x = g.add(LayerKind::BatchNorm2d, fmt::format("{}.{}", seq, first + 1), {x}, nn::BatchNormAttrs{conv.out_channels});
  if (relu) x = g.add(LayerKind::ReLU, fmt::format("{}.{}", seq, first + 2), {x});
  return x;
}

ValueId add_shuffle_block(nn::LayerGraph& g, const std::string& path, ValueId input, std::int64_t in, std::int64_t out,
                          std::int64_t stride) {
  const std::int64_t branch = out / 2;
  ValueId kept = input, x = input;
  std::int64_t branch2_in = in;
  if (stride == 1) {
    kept = g.add(LayerKind::ChannelSlice, path + ".chunk.0", {input}, nn::ChannelSliceAttrs{0, in / 2});
    x = g.add(LayerKind::ChannelSlice, path + ".chunk.1", {input}, nn::ChannelSliceAttrs{in / 2, in});
    branch2_in = branch;
  } else {
    const std::string b1 = path + ".branch1";
    kept = add_shuffle_conv_bn(g, b1, 0, input, conv2d_attrs(in, in, 3, stride, 1, in), false);
    kept = add_shuffle_conv_bn(g, b1, 2, kept, conv2d_attrs(in, branch, 1), true);
  }
  const std::string b2 = path + ".branch2";
  x = add_shuffle_conv_bn(g, b2, 0, x, conv2d_attrs(branch2_in, branch, 1), true);
  x = add_shuffle_conv_bn(g, b2, 3, x, conv2d_attrs(branch, branch, 3, stride, 1, branch), false);
  x = add_shuffle_conv_bn(g, b2, 5, x, conv2d_attrs(branch, branch, 1), true);
  x = g.add(LayerKind::Concat, path + ".cat", {kept, x});
  return g.add(LayerKind::ChannelShuffle, path + ".channel_shuffle", {x}, nn::ChannelShuffleAttrs{2, out});
}

nn::LayerGraph build_shufflenet(const ShuffleNetVariant& v, const nn::ModelOptions& options) {
  nn::LayerGraph g;
  g.arch = std::string(v.name);
  g.num_outputs = options.num_outputs;
  ValueId x = add_shuffle_conv_bn(g, "conv1", 0, g.input, conv2d_attrs(3, v.channels[0], 3, 2, 1), true);
  x = g.add(LayerKind::MaxPool2d, "maxpool", {x}, nn::PoolAttrs{{3, 3}, {2, 2}, {1, 1}});
  std::int64_t in = v.channels[0];
  for (std::size_t s = 0; s < kShuffleRepeats.size(); ++s) {
    const std::int64_t out = v.channels[s + 1];
    for (std::int64_t i = 0; i < kShuffleRepeats[s]; ++i) {
      x = add_shuffle_block(g, fmt::format("stage{}.{}", s + 2, i), x, i == 0 ? in : out, out, i == 0 ? 2 : 1);
    }
    in = out;
  }
  x = add_shuffle_conv_bn(g, "conv5", 0, x, conv2d_attrs(in, v.channels[4], 1), true);
  x = g.add(LayerKind::AdaptiveAvgPool2d, "mean", {x});
  x = g.add(LayerKind::Flatten, "flatten", {x}, nn::FlattenAttrs{1});
  g.add(LayerKind::Linear, "fc", {x}, nn::LinearAttrs{v.channels[4], options.num_outputs, true});
  return g;
}

}  // namespace

void register_shufflenet(std::vector<Architecture>& out) {
  register_variants(out, kShuffleNetVariants, "ShuffleNet", build_shufflenet);
}

}  // namespace pt2onnx::models
