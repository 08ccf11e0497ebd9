#include "nn/bind.h"

#include <cstring>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/registry.h"
#include "pt2onnx/error.h"
#include "support/fake_state.h"

namespace pt2onnx::nn {
namespace {

using testing::erase_key;
using testing::fake_state;
using testing::find_mutable;
using ::testing::HasSubstr;
using ::testing::Not;

LayerGraph b0(std::int64_t n_out = 2) { return models::build("efficientnet_b0", {n_out, 0.4}); }

// Binds and returns the ArchMismatch message; fails the test if binding succeeds.
std::string bind_error(LayerGraph& g, const checkpoint::StateDict& state) {
  try {
    bind(g, state);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::ArchMismatch);
    return e.what();
  }
  ADD_FAILURE() << "bind accepted a mismatched state dict";
  return {};
}

bool any_bound(const LayerGraph& g) {
  for (const auto& l : g.layers) {
    if (!l.params.empty()) return true;
  }
  return false;
}

TEST(Bind, FitsAndConvertsToFloat32) {
  LayerGraph g = b0();
  const auto state = fake_state(g);
  bind(g, state);
  for (const auto& l : g.layers) {
    const auto expected = l.expected_params();
    ASSERT_EQ(l.params.size(), expected.size()) << l.path;
    for (const auto& spec : expected) {
      const Tensor& t = l.params.at(spec.local_name);
      EXPECT_EQ(t.dtype(), DType::Float32);
      EXPECT_EQ(t.shape(), spec.shape) << l.path << "." << spec.local_name;
    }
  }
  const Tensor& w = g.layers.back().params.at("weight");
  EXPECT_EQ(std::memcmp(w.bytes().data(), state.find("classifier.1.weight")->bytes().data(), w.nbytes()), 0);
}

TEST(Bind, ConvertsHalfBFloatAndDouble) {
  LayerGraph g = b0();
  auto state = fake_state(g);
  // 1.0, -2.0 in each format, the rest zero.
  const std::int64_t n = 32 * 3 * 3 * 3;
  std::vector<std::byte> half(static_cast<std::size_t>(n) * 2), bf16(half.size()), f64(static_cast<std::size_t>(n) * 8);
  const std::uint16_t h[2] = {0x3c00, 0xc000}, b[2] = {0x3f80, 0xc000};
  const double d[2] = {1.0, -2.0};
  std::memcpy(half.data(), h, 4);
  std::memcpy(bf16.data(), b, 4);
  std::memcpy(f64.data(), d, 16);
  *find_mutable(state, "features.0.0.weight") = Tensor(DType::Float16, {32, 3, 3, 3}, half);
  *find_mutable(state, "features.0.1.weight") =
      Tensor(DType::BFloat16, {32}, std::vector<std::byte>(bf16.begin(), bf16.begin() + 64));
  *find_mutable(state, "classifier.1.bias") =
      Tensor(DType::Float64, {2}, std::vector<std::byte>(f64.begin(), f64.begin() + 16));
  bind(g, state);
  EXPECT_EQ(g.layers[0].params.at("weight").f32()[1], -2.0f);
  EXPECT_EQ(g.layers[1].params.at("weight").f32()[0], 1.0f);
  EXPECT_EQ(g.layers.back().params.at("bias").f32()[1], -2.0f);
  EXPECT_EQ(g.layers.back().params.at("bias").dtype(), DType::Float32);
}

TEST(Bind, ReportsMissingKeysWithCountsAndTheFirstFive) {
  LayerGraph g = b0();
  auto state = fake_state(g);
  for (const char* k :
       {"features.0.0.weight", "features.0.1.bias", "features.1.0.block.1.fc1.weight", "features.1.0.block.1.fc1.bias",
        "features.2.0.block.0.0.weight", "classifier.1.bias", "classifier.1.weight"}) {
    erase_key(state, k);
  }
  const std::string msg = bind_error(g, state);
  EXPECT_THAT(msg, HasSubstr("does not fit efficientnet_b0"));
  EXPECT_THAT(msg, HasSubstr("304 of 311 expected tensors match"));
  EXPECT_THAT(msg, HasSubstr("7 missing keys: features.0.0.weight, features.0.1.bias, features.1.0.block.1.fc1.weight, "
                             "features.1.0.block.1.fc1.bias, features.2.0.block.0.0.weight and 2 more."));
  EXPECT_THAT(msg, Not(HasSubstr("unexpected")));
  EXPECT_FALSE(any_bound(g));
}

TEST(Bind, ReportsUnexpectedKeysButIgnoresBatchNormCounters) {
  LayerGraph g = b0();
  auto state = fake_state(g);
  state.entries.emplace_back("classifier.2.weight", Tensor(DType::Float32, {2, 2}));
  // num_batches_tracked is only a BatchNorm's; anywhere else it is unexpected.
  state.entries.emplace_back("classifier.1.num_batches_tracked", Tensor(DType::Int64, {}));
  const std::string msg = bind_error(g, state);
  EXPECT_THAT(msg, HasSubstr("311 of 311 expected tensors match"));
  EXPECT_THAT(msg, HasSubstr("2 unexpected keys: classifier.2.weight, classifier.1.num_batches_tracked."));
  EXPECT_THAT(msg, Not(HasSubstr("features.0.1.num_batches_tracked")));
}

TEST(Bind, ReportsShapeMismatchesWithBothShapes) {
  LayerGraph g = b0(2);
  auto state = fake_state(b0(3));  // a 3-output head where 2 are expected
  const std::string msg = bind_error(g, state);
  EXPECT_THAT(msg, HasSubstr("309 of 311 expected tensors match"));
  EXPECT_THAT(msg, HasSubstr("2 shape mismatches: classifier.1.weight is [3, 1280] in the checkpoint, [2, 1280] "
                             "expected, classifier.1.bias is [3] in the checkpoint, [2] expected."));
}

TEST(Bind, RejectsNonFloatWeights) {
  LayerGraph g = b0();
  auto state = fake_state(g);
  *find_mutable(state, "features.0.1.running_mean") = Tensor(DType::Int64, {32});
  *find_mutable(state, "features.0.0.weight") = Tensor(DType::UInt8, {32, 3, 3, 3});
  const std::string msg = bind_error(g, state);
  EXPECT_THAT(msg, HasSubstr("2 tensors have the wrong type"));
  EXPECT_THAT(msg, HasSubstr("features.0.0.weight is uint8, a floating-point type expected, "
                             "features.0.1.running_mean is int64, a floating-point type expected"));
  EXPECT_FALSE(any_bound(g));
}

TEST(Bind, RejectsDuplicateKeys) {
  LayerGraph g = b0();
  auto state = fake_state(g);
  state.entries.push_back(state.entries[3]);
  EXPECT_THAT(bind_error(g, state), HasSubstr("1 key appears more than once: features.0.1.running_mean."));
}

TEST(Bind, CheckStateCountsWithoutThrowing) {
  const LayerGraph g = b0();
  checkpoint::StateDict empty;
  const BindReport r = check_state(g, empty);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.expected_keys, 311U);
  EXPECT_EQ(r.matched_keys, 0U);
  EXPECT_EQ(r.missing.size(), 311U);
  EXPECT_TRUE(check_state(g, fake_state(g)).ok());
}

}  // namespace
}  // namespace pt2onnx::nn
