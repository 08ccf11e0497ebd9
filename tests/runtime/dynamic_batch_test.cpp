// One loaded model runs batch 1, then 7, then 1 again (a plan per batch size,
// cached), and every row equals the same image run alone.
#include <string>

#include "runtime/naive_ops.h"
#include "runtime/test_model.h"

namespace pt2onnx::testing {
namespace {

// Conv + BN + SiLU, a residual block, squeeze-excitation, pooling, Flatten, Gemm.
ModelBuilder small_cnn() {
  ModelBuilder mb;
  mb.input("image", {-1, 3, 9, 9}).output("logits");
  std::uint32_t seed = 3000;
  auto weight = [&](const std::string& name, std::vector<std::int64_t> dims, float lo = -0.4f, float hi = 0.4f) {
    mb.initializer(name, dims, random_values(static_cast<std::size_t>(numel(dims)), seed++, lo, hi));
  };
  weight("w0", {6, 3, 3, 3});
  weight("b0", {6});
  set_ints(mb.node("Conv", {"image", "w0", "b0"}, {"c0"}), "strides", {2, 2});
  for (const auto& p : {"s", "b", "m"}) weight(std::string("bn.") + p, {6});
  weight("bn.v", {6}, 0.5f, 1.5f);
  mb.node("BatchNormalization", {"c0", "bn.s", "bn.b", "bn.m", "bn.v"}, {"n0"});
  mb.node("Sigmoid", {"n0"}, {"g0"});
  mb.node("Mul", {"n0", "g0"}, {"a0"});
  weight("w1", {6, 1, 3, 3});
  auto& dw = mb.node("Conv", {"a0", "w1"}, {"c1"});
  set_int(dw, "group", 6);
  set_ints(dw, "pads", {1, 1, 1, 1});
  mb.node("Add", {"c1", "a0"}, {"r1"});
  mb.node("GlobalAveragePool", {"r1"}, {"p"});
  weight("wse", {6, 6, 1, 1});
  mb.node("Conv", {"p", "wse"}, {"se"});
  mb.node("Sigmoid", {"se"}, {"gate"});
  mb.node("Mul", {"r1", "gate"}, {"scaled"});
  auto& pool = mb.node("MaxPool", {"scaled"}, {"pooled"});
  set_ints(pool, "kernel_shape", {2, 2});
  set_ints(pool, "strides", {2, 2});
  mb.node("Flatten", {"pooled"}, {"flat"});
  weight("fc", {4, 24});
  weight("fc.b", {4});
  set_int(mb.node("Gemm", {"flat", "fc", "fc.b"}, {"logits"}), "transB", 1);
  return mb;
}

TEST(RuntimeDynamicBatch, OneThenSevenThenOne) {
  const auto path = small_cnn().save("dynamic.onnx");
  auto model = runtime::Model::load(path);
  auto alone = runtime::Model::load(path);
  const auto x7 = random_tensor({7, 3, 9, 9}, 42, -2.0f, 2.0f);
  const auto row = [&](std::int64_t i) {
    const auto v = values_of(x7);
    return make_f32({1, 3, 9, 9}, {v.begin() + i * 243, v.begin() + (i + 1) * 243});
  };
  const auto first = model.run({row(3)});
  ASSERT_EQ(first[0].shape(), (Shape{1, 4}));
  const auto seven = model.run({x7});
  ASSERT_EQ(seven[0].shape(), (Shape{7, 4}));
  const auto again = model.run({row(3)});
  EXPECT_EQ(values_of(again[0]), values_of(first[0])) << "batch 1 after batch 7 differs";
  const auto seven_values = values_of(seven[0]);
  for (std::int64_t i = 0; i < 7; ++i) {
    SCOPED_TRACE("row " + std::to_string(i) + " of the batch of 7");
    const std::vector<float> got(seven_values.begin() + i * 4, seven_values.begin() + (i + 1) * 4);
    EXPECT_TRUE(all_close(got, values_of(alone.run({row(i)})[0]), 1e-5, 1e-5));
  }
  // And the unoptimized graph agrees at batch 7.
  runtime::Options plain;
  plain.optimize = false;
  EXPECT_TRUE(all_close(values_of(runtime::Model::load(path, plain).run({x7})[0]), seven_values, 1e-5, 1e-4));
}

TEST(RuntimeDynamicBatch, RepeatedRunsAreBitIdentical) {
  auto model = runtime::Model::load(small_cnn().save("repeat.onnx"));
  const auto x = random_tensor({3, 3, 9, 9}, 5);
  const auto a = values_of(model.run({x})[0]);
  const auto b = values_of(model.run({x})[0]);
  EXPECT_EQ(a, b);
}

// Plain conv -> relu -> global pool -> gemm checked against the naive chain at several batch sizes.
TEST(RuntimeDynamicBatch, MatchesNaiveChainAtEachBatchSize) {
  ModelBuilder mb;
  mb.input("x", {-1, 2, 6, 6}).output("y");
  const auto w = random_values(3 * 2 * 3 * 3, 1), fc = random_values(5 * 3, 2);
  mb.initializer("w", {3, 2, 3, 3}, w);
  mb.initializer("fc", {3, 5}, fc);
  mb.node("Conv", {"x", "w"}, {"c"});
  mb.node("Relu", {"c"}, {"r"});
  mb.node("GlobalAveragePool", {"r"}, {"g"});
  mb.node("Flatten", {"g"}, {"f"});
  mb.node("Gemm", {"f", "fc"}, {"y"});
  auto model = runtime::Model::load(mb.save("naive_chain.onnx"));
  for (std::int64_t batch : {1, 7, 1, 2}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    const auto x = random_values(static_cast<std::size_t>(batch * 72), 10 + static_cast<std::uint32_t>(batch));
    Conv2d p{batch, 2, 6, 6, 3, 3, 3};
    const auto conv = map_values(naive_conv2d(x, w, {}, p), naive_relu);
    std::vector<float> pooled(static_cast<std::size_t>(batch * 3), 0.0f);
    for (std::size_t i = 0; i < pooled.size(); ++i) {
      double s = 0;
      for (int k = 0; k < 16; ++k) s += conv[i * 16 + static_cast<std::size_t>(k)];
      pooled[i] = static_cast<float>(s / 16);
    }
    EXPECT_TRUE(
        all_close(values_of(model.run({make_f32({batch, 2, 6, 6}, x)})[0]), naive_matmul2d(pooled, fc, batch, 3, 5)));
  }
}

}  // namespace
}  // namespace pt2onnx::testing
