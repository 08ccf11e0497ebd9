// forward(): wiring, eval-mode identities, input validation, batch independence.
#include "reference/reference.h"

#include <atomic>
#include <cstring>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/registry.h"
#include "nn/bind.h"
#include "pt2onnx/error.h"
#include "reference/parallel.h"
#include "support/fake_state.h"

namespace pt2onnx::reference {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

// conv1x1 (3 -> 2, bias) -> ReLU -> avgpool -> flatten -> Dropout -> Linear (2 -> 1),
// plus a residual Add of the ReLU output with itself and an SE-style Mul, all by hand.
nn::LayerGraph tiny_graph() {
  nn::LayerGraph g;
  g.arch = "tiny";
  g.input_size = 2;
  g.num_outputs = 1;
  nn::Conv2dAttrs c;
  c.in_channels = 3;
  c.out_channels = 2;
  c.bias = true;
  auto x = g.add(nn::LayerKind::Conv2d, "conv", {g.input}, c);
  x = g.add(nn::LayerKind::ReLU, "relu", {x});
  auto twice = g.add(nn::LayerKind::Add, "add", {x, x});
  auto sd = g.add(nn::LayerKind::StochasticDepth, "sd", {twice}, nn::DropoutAttrs{0.5});
  auto pooled = g.add(nn::LayerKind::AdaptiveAvgPool2d, "pool", {sd});
  auto scaled = g.add(nn::LayerKind::Mul, "mul", {sd, pooled});
  auto p = g.add(nn::LayerKind::AdaptiveAvgPool2d, "avgpool", {scaled});
  p = g.add(nn::LayerKind::Flatten, "flatten", {p}, nn::FlattenAttrs{1});
  p = g.add(nn::LayerKind::Dropout, "drop", {p}, nn::DropoutAttrs{0.9});
  g.add(nn::LayerKind::Linear, "fc", {p}, nn::LinearAttrs{2, 1, true});
  checkpoint::StateDict state;
  state.entries.emplace_back("conv.weight", make_f32({2, 3, 1, 1}, {1, 1, 1, -1, 0, 0}));
  state.entries.emplace_back("conv.bias", make_f32({2}, {0, 1}));
  state.entries.emplace_back("fc.weight", make_f32({1, 2}, {1, 10}));
  state.entries.emplace_back("fc.bias", make_f32({1}, {0.25f}));
  nn::bind(g, state);
  return g;
}

TEST(ReferenceForward, RunsAHandBuiltGraph) {
  // One 1x2 image: channels [1, 2], [3, 4], [-5, 0].
  const Tensor x = make_f32({1, 3, 1, 2}, {1, 2, 3, 4, -5, 0});
  // conv: ch0 = sum = [-1, 6], ch1 = -ch0_in + 1 = [0, -1]; relu: [0, 6], [0, 0]; add: [0, 12], [0, 0]
  // pool: [6, 0]; mul: [0, 72], [0, 0]; avgpool: [36, 0]; fc: 36 + 0 + 0.25
  const Tensor y = forward(tiny_graph(), x);
  EXPECT_EQ(y.shape(), (Shape{1, 1}));
  EXPECT_EQ(y.f32()[0], 36.25f);
}

TEST(ReferenceForward, ValidatesTheInput) {
  const nn::LayerGraph g = tiny_graph();
  for (const Tensor& bad : {Tensor(DType::Float32, {1, 2, 4, 4}), Tensor(DType::Float32, {3, 4, 4}),
                            Tensor(DType::Float64, {1, 3, 4, 4}), Tensor(DType::Float32, {0, 3, 4, 4})}) {
    try {
      (void)forward(g, bad);
      ADD_FAILURE() << "accepted " << shape_to_string(bad.shape());
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::BadInput);
      EXPECT_THAT(e.what(), HasSubstr(shape_to_string(bad.shape())));
      EXPECT_THAT(e.what(), HasSubstr("expects float32 [batch, 3, height, width]"));
    }
  }
}

TEST(ReferenceForward, NamesTheLayerOfAnUnboundParameter) {
  nn::LayerGraph g = models::build("efficientnet_b0", {2, 0.2});
  try {
    (void)forward(g, Tensor(DType::Float32, {1, 3, 32, 32}));
    FAIL() << "ran an unbound graph";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Internal);
    EXPECT_THAT(e.what(), HasSubstr("layer features.0.0 (Conv2d): parameter 'weight' is not bound"));
  }
}

TEST(ReferenceForward, NamesTheLayerWhenTheImageIsTooSmall) {
  // Torchvision's models pad every window, so any image fits them; an unpadded 3x3 does not fit 2x2.
  nn::LayerGraph g;
  g.arch = "unpadded";
  nn::Conv2dAttrs c;
  c.in_channels = 3;
  c.out_channels = 1;
  c.kernel[0] = c.kernel[1] = 3;
  g.add(nn::LayerKind::Conv2d, "stem.conv", {g.input}, c);
  checkpoint::StateDict state;
  state.entries.emplace_back("stem.conv.weight", Tensor(DType::Float32, {1, 3, 3, 3}));
  nn::bind(g, state);
  EXPECT_EQ(forward(g, Tensor(DType::Float32, {1, 3, 3, 3})).shape(), (Shape{1, 1, 1, 1}));
  try {
    (void)forward(g, Tensor(DType::Float32, {1, 3, 2, 5}));
    FAIL() << "ran a 2x5 image through an unpadded 3x3 convolution";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
    EXPECT_THAT(e.what(),
                HasSubstr("layer stem.conv (Conv2d): input size 2 (padding 0) is smaller than the window of 3"));
  }
}

TEST(ReferenceForward, ImagesOfABatchAreIndependentAndRunsRepeat) {
  nn::LayerGraph g = models::build("efficientnet_b0", {3, 0.2});
  nn::bind(g, testing::fake_state(g));
  const Tensor a = testing::patterned({1, 3, 40, 40}, 7);
  const Tensor b = testing::patterned({1, 3, 40, 40}, 8);
  std::vector<std::byte> both(a.bytes().begin(), a.bytes().end());
  both.insert(both.end(), b.bytes().begin(), b.bytes().end());
  const Tensor ab(DType::Float32, {2, 3, 40, 40}, both);

  const Tensor ya = forward(g, a), yb = forward(g, b), yab = forward(g, ab);
  ASSERT_EQ(yab.shape(), (Shape{2, 3}));
  std::vector<float> separate(ya.f32().begin(), ya.f32().end());
  separate.insert(separate.end(), yb.f32().begin(), yb.f32().end());
  EXPECT_THAT(std::vector<float>(yab.f32().begin(), yab.f32().end()), ElementsAreArray(separate));
  EXPECT_NE(ya.f32()[0], yb.f32()[0]);
  const Tensor again = forward(g, a);
  EXPECT_EQ(std::memcmp(again.bytes().data(), ya.bytes().data(), ya.nbytes()), 0);
}

TEST(ReferenceParallel, CoversEveryItemOnceAndRethrows) {
  for (std::int64_t count : {0, 1, 2, 3, 17, 1000}) {
    std::vector<std::atomic<int>> hits(static_cast<std::size_t>(count));
    parallel_for(count, [&](std::int64_t begin, std::int64_t end) {
      for (auto i = begin; i < end; ++i) ++hits[static_cast<std::size_t>(i)];
    });
    for (const auto& h : hits) EXPECT_EQ(h.load(), 1) << "count " << count;
  }
  EXPECT_THROW(parallel_for(100,
                            [](std::int64_t begin, std::int64_t) {
                              if (begin >= 50) throw Error(ErrorKind::Internal, "boom");
                            }),
               Error);
}

}  // namespace
}  // namespace pt2onnx::reference
