// torchvision's Inception V3 (torchvision/models/inception.py, 0.14) as a
// layer graph with torchvision's module paths, at its 299x299 input.
//
// Every conv is a BasicConv2d (conv, bn with eps 0.001, F.relu), some with
// 1x7 / 7x1 and 1x3 / 3x1 kernels. The blocks' functional pools (F.avg_pool2d
// with padding 1, counting the padding; F.max_pool2d) and torch.cat are named
// after the block; InceptionE's inner torch.cat are "<block>.cat_3x3" and
// "<block>.cat_3x3dbl". AuxLogits runs only in training: its tensors, when
// present, are dropped with a note. transform_input follows the checkpoint
// (add_transform_input) unless the user says.
#include <string>
#include <vector>

#include <fmt/format.h>

#include "models/conv_norm_activation.h"
#include "models/families.h"

namespace pt2onnx::models {
namespace {

using nn::LayerKind;
using nn::ValueId;

constexpr std::int64_t kInceptionInputSize = 299;
constexpr std::int64_t kInceptionFeatures = 2048;

// Conv2d(in, out, (kh, kw), stride, padding (ph, pw)) without bias.
nn::Conv2dAttrs rect_conv(std::int64_t in, std::int64_t out, std::int64_t kh, std::int64_t kw, std::int64_t ph = 0,
                          std::int64_t pw = 0) {
  nn::Conv2dAttrs a = conv2d_attrs(in, out, 1);
  a.kernel[0] = kh;
  a.kernel[1] = kw;
  a.padding[0] = ph;
  a.padding[1] = pw;
  return a;
}

class InceptionBuilder {
 public:
  explicit InceptionBuilder(nn::LayerGraph& g) : g_(g) {}

  ValueId conv(const std::string& block, const char* name, ValueId x, const nn::Conv2dAttrs& a) {
    return add_basic_conv2d(g_, fmt::format("{}.{}", block, name), x, a);
  }
  // F.avg_pool2d(x, 3, stride=1, padding=1), torch's count_include_pad.
  ValueId avg_pool(const std::string& block, ValueId x) {
    return g_.add(LayerKind::AvgPool2d, block + ".avg_pool2d", {x}, nn::PoolAttrs{{3, 3}, {1, 1}, {1, 1}});
  }
  // F.max_pool2d(x, 3, stride=2).
  ValueId max_pool(const std::string& block, ValueId x) {
    return g_.add(LayerKind::MaxPool2d, block + ".max_pool2d", {x}, nn::PoolAttrs{{3, 3}, {2, 2}, {0, 0}});
  }

  ValueId inception_a(const std::string& b, ValueId x, std::int64_t in, std::int64_t pool_features) {
    const ValueId b1 = conv(b, "branch1x1", x, conv2d_attrs(in, 64, 1));
    ValueId b5 = conv(b, "branch5x5_1", x, conv2d_attrs(in, 48, 1));
    b5 = conv(b, "branch5x5_2", b5, conv2d_attrs(48, 64, 5, 1, 2));
    ValueId b3 = conv(b, "branch3x3dbl_1", x, conv2d_attrs(in, 64, 1));
    b3 = conv(b, "branch3x3dbl_2", b3, conv2d_attrs(64, 96, 3, 1, 1));
    b3 = conv(b, "branch3x3dbl_3", b3, conv2d_attrs(96, 96, 3, 1, 1));
    const ValueId bp = conv(b, "branch_pool", avg_pool(b, x), conv2d_attrs(in, pool_features, 1));
    return g_.add(LayerKind::Concat, b, {b1, b5, b3, bp});
  }

  ValueId inception_b(const std::string& b, ValueId x, std::int64_t in) {
    const ValueId b3 = conv(b, "branch3x3", x, conv2d_attrs(in, 384, 3, 2));
    ValueId bd = conv(b, "branch3x3dbl_1", x, conv2d_attrs(in, 64, 1));
    bd = conv(b, "branch3x3dbl_2", bd, conv2d_attrs(64, 96, 3, 1, 1));
    bd = conv(b, "branch3x3dbl_3", bd, conv2d_attrs(96, 96, 3, 2));
    return g_.add(LayerKind::Concat, b, {b3, bd, max_pool(b, x)});
  }

  ValueId inception_c(const std::string& b, ValueId x, std::int64_t in, std::int64_t c7) {
    const ValueId b1 = conv(b, "branch1x1", x, conv2d_attrs(in, 192, 1));
    ValueId b7 = conv(b, "branch7x7_1", x, conv2d_attrs(in, c7, 1));
    b7 = conv(b, "branch7x7_2", b7, rect_conv(c7, c7, 1, 7, 0, 3));
    b7 = conv(b, "branch7x7_3", b7, rect_conv(c7, 192, 7, 1, 3, 0));
    ValueId bd = conv(b, "branch7x7dbl_1", x, conv2d_attrs(in, c7, 1));
    bd = conv(b, "branch7x7dbl_2", bd, rect_conv(c7, c7, 7, 1, 3, 0));
    bd = conv(b, "branch7x7dbl_3", bd, rect_conv(c7, c7, 1, 7, 0, 3));
    bd = conv(b, "branch7x7dbl_4", bd, rect_conv(c7, c7, 7, 1, 3, 0));
    bd = conv(b, "branch7x7dbl_5", bd, rect_conv(c7, 192, 1, 7, 0, 3));
    const ValueId bp = conv(b, "branch_pool", avg_pool(b, x), conv2d_attrs(in, 192, 1));
    return g_.add(LayerKind::Concat, b, {b1, b7, bd, bp});
  }

  ValueId inception_d(const std::string& b, ValueId x, std::int64_t in) {
    ValueId b3 = conv(b, "branch3x3_1", x, conv2d_attrs(in, 192, 1));
    b3 = conv(b, "branch3x3_2", b3, conv2d_attrs(192, 320, 3, 2));
    ValueId b7 = conv(b, "branch7x7x3_1", x, conv2d_attrs(in, 192, 1));
    b7 = conv(b, "branch7x7x3_2", b7, rect_conv(192, 192, 1, 7, 0, 3));
    b7 = conv(b, "branch7x7x3_3", b7, rect_conv(192, 192, 7, 1, 3, 0));
    b7 = conv(b, "branch7x7x3_4", b7, conv2d_attrs(192, 192, 3, 2));
    return g_.add(LayerKind::Concat, b, {b3, b7, max_pool(b, x)});
  }

  ValueId inception_e(const std::string& b, ValueId x, std::int64_t in) {
    const ValueId b1 = conv(b, "branch1x1", x, conv2d_attrs(in, 320, 1));
    const ValueId b3 = conv(b, "branch3x3_1", x, conv2d_attrs(in, 384, 1));
    const ValueId b3a = conv(b, "branch3x3_2a", b3, rect_conv(384, 384, 1, 3, 0, 1));
    const ValueId b3b = conv(b, "branch3x3_2b", b3, rect_conv(384, 384, 3, 1, 1, 0));
    const ValueId cat3 = g_.add(LayerKind::Concat, b + ".cat_3x3", {b3a, b3b});
    ValueId bd = conv(b, "branch3x3dbl_1", x, conv2d_attrs(in, 448, 1));
    bd = conv(b, "branch3x3dbl_2", bd, conv2d_attrs(448, 384, 3, 1, 1));
    const ValueId bda = conv(b, "branch3x3dbl_3a", bd, rect_conv(384, 384, 1, 3, 0, 1));
    const ValueId bdb = conv(b, "branch3x3dbl_3b", bd, rect_conv(384, 384, 3, 1, 1, 0));
    const ValueId catd = g_.add(LayerKind::Concat, b + ".cat_3x3dbl", {bda, bdb});
    const ValueId bp = conv(b, "branch_pool", avg_pool(b, x), conv2d_attrs(in, 192, 1));
    return g_.add(LayerKind::Concat, b, {b1, cat3, catd, bp});
  }

 private:
  nn::LayerGraph& g_;
};

nn::LayerGraph build_inception_v3(const nn::ModelOptions& options) {
  nn::LayerGraph g;
  g.arch = "inception_v3";
  g.num_outputs = options.num_outputs;
  g.input_size = kInceptionInputSize;
  g.training_only = {"AuxLogits"};
  InceptionBuilder b(g);
  ValueId x = add_transform_input(g, options, "inception_v3");
  x = add_basic_conv2d(g, "Conv2d_1a_3x3", x, conv2d_attrs(3, 32, 3, 2));
  x = add_basic_conv2d(g, "Conv2d_2a_3x3", x, conv2d_attrs(32, 32, 3));
  x = add_basic_conv2d(g, "Conv2d_2b_3x3", x, conv2d_attrs(32, 64, 3, 1, 1));
  x = g.add(LayerKind::MaxPool2d, "maxpool1", {x}, nn::PoolAttrs{{3, 3}, {2, 2}, {0, 0}});
  x = add_basic_conv2d(g, "Conv2d_3b_1x1", x, conv2d_attrs(64, 80, 1));
  x = add_basic_conv2d(g, "Conv2d_4a_3x3", x, conv2d_attrs(80, 192, 3));
  x = g.add(LayerKind::MaxPool2d, "maxpool2", {x}, nn::PoolAttrs{{3, 3}, {2, 2}, {0, 0}});
  x = b.inception_a("Mixed_5b", x, 192, 32);
  x = b.inception_a("Mixed_5c", x, 256, 64);
  x = b.inception_a("Mixed_5d", x, 288, 64);
  x = b.inception_b("Mixed_6a", x, 288);
  x = b.inception_c("Mixed_6b", x, 768, 128);
  x = b.inception_c("Mixed_6c", x, 768, 160);
  x = b.inception_c("Mixed_6d", x, 768, 160);
  x = b.inception_c("Mixed_6e", x, 768, 192);
  x = b.inception_d("Mixed_7a", x, 768);
  x = b.inception_e("Mixed_7b", x, 1280);
  x = b.inception_e("Mixed_7c", x, kInceptionFeatures);
  x = g.add(LayerKind::AdaptiveAvgPool2d, "avgpool", {x});
  x = g.add(LayerKind::Dropout, "dropout", {x}, nn::DropoutAttrs{options.dropout});
  x = g.add(LayerKind::Flatten, "flatten", {x}, nn::FlattenAttrs{1});
  g.add(LayerKind::Linear, "fc", {x}, nn::LinearAttrs{kInceptionFeatures, options.num_outputs, true});
  return g;
}

}  // namespace

void register_inception(std::vector<Architecture>& out) {
  out.push_back({"inception_v3", "Inception-V3", "Inception", build_inception_v3});
}

}  // namespace pt2onnx::models
