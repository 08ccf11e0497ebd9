// torchvision's SqueezeNet 1.0 and 1.1 (torchvision/models/squeezenet.py,
// 0.14) as layer graphs with torchvision's module paths.
//
// A Fire module's torch.cat of its two expand branches is named after the
// module ("features.3"). The classifier is convolutional: Dropout, a 1x1
// Conv2d to the outputs (the layer a user replaces), ReLU and a global average
// pool, then torch.flatten. Its max pools use ceil_mode. No BatchNorm.
#include <array>
#include <string>
#include <string_view>
#include <variant>

#include <fmt/format.h>

#include "models/conv_norm_activation.h"
#include "models/families.h"

namespace pt2onnx::models {
namespace {

using nn::LayerKind;
using nn::ValueId;

struct Fire {
  std::int64_t inplanes, squeeze, expand1x1, expand3x3;
};
struct Pool {};
using Feature = std::variant<Fire, Pool>;

struct SqueezeNetVariant {
  std::string_view name;
  std::string_view display;
  std::int64_t stem_channels;
  std::int64_t stem_kernel;
  std::array<Feature, 10> features;  // after the stem conv, its ReLU and the first pool (features.0-2)
};

const std::array<SqueezeNetVariant, 2> kSqueezeNetVariants{{
    {"squeezenet1_0",
     "SqueezeNet-1.0",
     96,
     7,
     {Fire{96, 16, 64, 64}, Fire{128, 16, 64, 64}, Fire{128, 32, 128, 128}, Pool{}, Fire{256, 32, 128, 128},
      Fire{256, 48, 192, 192}, Fire{384, 48, 192, 192}, Fire{384, 64, 256, 256}, Pool{}, Fire{512, 64, 256, 256}}},
    {"squeezenet1_1",
     "SqueezeNet-1.1",
     64,
     3,
     {Fire{64, 16, 64, 64}, Fire{128, 16, 64, 64}, Pool{}, Fire{128, 32, 128, 128}, Fire{256, 32, 128, 128}, Pool{},
      Fire{256, 48, 192, 192}, Fire{384, 48, 192, 192}, Fire{384, 64, 256, 256}, Fire{512, 64, 256, 256}}},
}};

constexpr std::int64_t kClassifierInput = 512;

nn::PoolAttrs ceil_pool() {
  nn::PoolAttrs p{{3, 3}, {2, 2}, {0, 0}};
  p.ceil_mode = true;
  return p;
}

ValueId add_fire(nn::LayerGraph& g, const std::string& path, ValueId x, const Fire& f) {
  const auto p = [&](std::string_view local) { return fmt::format("{}.{}", path, local); };
  x = g.add(LayerKind::Conv2d, p("squeeze"), {x}, conv2d_attrs(f.inplanes, f.squeeze, 1, 1, 0, 1, true));
  x = g.add(LayerKind::ReLU, p("squeeze_activation"), {x});
  ValueId a = g.add(LayerKind::Conv2d, p("expand1x1"), {x}, conv2d_attrs(f.squeeze, f.expand1x1, 1, 1, 0, 1, true));
  a = g.add(LayerKind::ReLU, p("expand1x1_activation"), {a});
  ValueId b = g.add(LayerKind::Conv2d, p("expand3x3"), {x}, conv2d_attrs(f.squeeze, f.expand3x3, 3, 1, 1, 1, true));
  b = g.add(LayerKind::ReLU, p("expand3x3_activation"), {b});
  return g.add(LayerKind::Concat, path, {a, b});
}

nn::LayerGraph build_squeezenet(const SqueezeNetVariant& v, const nn::ModelOptions& options) {
  nn::LayerGraph g;
  g.arch = std::string(v.name);
  g.num_outputs = options.num_outputs;
  ValueId x =
      g.add(LayerKind::Conv2d, "features.0", {g.input}, conv2d_attrs(3, v.stem_channels, v.stem_kernel, 2, 0, 1, true));
  x = g.add(LayerKind::ReLU, "features.1", {x});
  x = g.add(LayerKind::MaxPool2d, "features.2", {x}, ceil_pool());
  int index = 3;
  for (const Feature& feature : v.features) {
    const auto path = fmt::format("features.{}", index++);
    if (const auto* fire = std::get_if<Fire>(&feature)) {
      x = add_fire(g, path, x, *fire);
    } else {
      x = g.add(LayerKind::MaxPool2d, path, {x}, ceil_pool());
    }
  }
  x = g.add(LayerKind::Dropout, "classifier.0", {x}, nn::DropoutAttrs{options.dropout});
  x = g.add(LayerKind::Conv2d, "classifier.1", {x},
            conv2d_attrs(kClassifierInput, options.num_outputs, 1, 1, 0, 1, true));
  x = g.add(LayerKind::ReLU, "classifier.2", {x});
  x = g.add(LayerKind::AdaptiveAvgPool2d, "classifier.3", {x});
  g.add(LayerKind::Flatten, "flatten", {x}, nn::FlattenAttrs{1});
  return g;
}

}  // namespace

void register_squeezenet(std::vector<Architecture>& out) {
  register_variants(out, kSqueezeNetVariants, "SqueezeNet", build_squeezenet);
}

}  // namespace pt2onnx::models
