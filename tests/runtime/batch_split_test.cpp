// Throughput mode inside a run: which graphs may run one image per thread,
// and the same outputs as one wide batch when they do.
#include "runtime/batch_split.h"

#include <thread>

#include "runtime/efficientnet_like.h"
#include "runtime/onnx_loader.h"
#include "runtime/passes/pipeline.h"
#include "runtime/shape_inference.h"

namespace pt2onnx::testing {
namespace {

bool independent(const ModelBuilder& mb) {
  auto loaded = runtime::load_onnx_file(mb.save("batch_split.onnx"));
  runtime::infer_shapes(loaded.graph);
  runtime::run_passes(loaded.graph, {});
  return runtime::independent_batch_symbol(loaded.graph).has_value();
}

ModelBuilder conv_then(const std::string& op, std::int64_t axis) {
  ModelBuilder mb;
  mb.input("x", {-1, 4, 6, 6}).output("y");
  mb.initializer("w", {4, 4, 1, 1}, random_values(16, 3));
  mb.node("Conv", {"x", "w"}, {"c"});
  if (op == "Concat") {
    set_int(mb.node("Concat", {"c", "x"}, {"y"}), "axis", axis);
  } else if (op == "Gather") {  // x[:, [2, 0]] along `axis`
    mb.initializer_i64("i", {2}, {2, 0});
    set_int(mb.node("Gather", {"c", "i"}, {"y"}), "axis", axis);
  } else {
    set_int(mb.node(op, {"c"}, {"y"}), "axis", axis);
  }
  return mb;
}

TEST(RuntimeBatchSplit, RowWiseGraphsOnly) {
  EXPECT_TRUE(independent(efficientnet_like_model()));
  EXPECT_TRUE(independent(conv_then("Softmax", 1)));
  EXPECT_FALSE(independent(conv_then("Softmax", 0)));
  EXPECT_TRUE(independent(conv_then("Concat", 1)));
  EXPECT_FALSE(independent(conv_then("Concat", 0)));
  EXPECT_TRUE(independent(conv_then("Gather", 1)));
  EXPECT_TRUE(independent(conv_then("Gather", -1)));
  EXPECT_FALSE(independent(conv_then("Gather", 0)));
  // A fixed batch has no symbol to split.
  ModelBuilder fixed;
  fixed.input("x", {2, 4}).output("y");
  fixed.node("Relu", {"x"}, {"y"});
  EXPECT_FALSE(independent(fixed));
  // A constant with batch rows of its own ties the rows together.
  ModelBuilder rows;
  rows.input("x", {-1, 4}).output("y");
  rows.initializer("k", {3, 4}, random_values(12, 4));
  rows.node("Add", {"x", "k"}, {"y"});
  EXPECT_FALSE(independent(rows));
}

// Two threads, batches split one image per thread (the default) or not.
runtime::Options two_threads(bool split_batch) {
  runtime::Options o;
  o.threads = 2;
  o.split_batch = split_batch;
  return o;
}

// A matrix product on [batch, rows..., k] with a constant k x n weight.
ModelBuilder product(const std::string& op, std::vector<std::int64_t> per_image, std::int64_t k, std::int64_t n) {
  ModelBuilder mb;
  std::vector<std::int64_t> x_shape{-1};
  x_shape.insert(x_shape.end(), per_image.begin(), per_image.end());
  x_shape.push_back(k);
  mb.input("x", x_shape).output("y");
  mb.initializer("w", {k, n}, random_values(static_cast<std::size_t>(k * n), 5));
  mb.node(op, {"x", "w"}, {"y"});
  return mb;
}

bool split_pays(const ModelBuilder& mb) {
  auto loaded = runtime::load_onnx_file(mb.save("batch_split_pays.onnx"));
  runtime::infer_shapes(loaded.graph);
  runtime::run_passes(loaded.graph, {});
  return runtime::batch_split_pays(loaded.graph);
}

TEST(RuntimeBatchSplit, NotWhereEachImageWouldStreamAWeightTooLargeForTheCaches) {
  // A classifier's fully connected layer of 9.4 MB on one row per image: split,
  // every image reads the whole weight from memory.
  EXPECT_FALSE(split_pays(product("Gemm", {}, 2304, 1024)));
  EXPECT_FALSE(split_pays(product("MatMul", {}, 2304, 1024)));
  EXPECT_FALSE(split_pays(product("MatMul", {1}, 2304, 1024)));
  // A small one stays in the caches.
  EXPECT_TRUE(split_pays(product("Gemm", {}, 256, 8)));
  // 49 rows per image (tokens, pixels): each weight byte serves 49 rows.
  EXPECT_TRUE(split_pays(product("MatMul", {49}, 2304, 1024)));
  EXPECT_TRUE(split_pays(efficientnet_like_model()));
  // And the model follows: one wide batch, though the graph is row-wise.
  const auto path = product("Gemm", {}, 2304, 1024).save("batch_split_large_fc.onnx");
  EXPECT_TRUE(independent(product("Gemm", {}, 2304, 1024)));
  EXPECT_FALSE(runtime::Model::load(path, two_threads(true)).splits_batch());
  EXPECT_TRUE(runtime::Model::load(efficientnet_like_model().save("batch_split_eff_pays.onnx"), two_threads(true))
                  .splits_batch());
}

TEST(RuntimeBatchSplit, SplitRunEqualsOneWideBatch) {
  const auto path = efficientnet_like_model().save("batch_split_eff.onnx");
  auto a = runtime::Model::load(path, two_threads(true));
  auto b = runtime::Model::load(path, two_threads(false));
  for (std::int64_t batch : {2, 3, 5}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    const auto x = random_tensor({batch, 3, 224, 224}, 900 + static_cast<std::uint32_t>(batch));
    const auto got = a.run({x});
    const auto want = b.run({x});
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].shape(), want[i].shape());
      double scale = 0.0;
      for (auto w : values_of(want[i])) scale = std::max(scale, std::fabs(static_cast<double>(w)));
      EXPECT_TRUE(all_close(values_of(got[i]), values_of(want[i]), 1e-4 * scale, 1e-4)) << "output " << i;
    }
    // Each image of a split batch is that image run alone.
    const auto alone = a.run({batch_item(x, batch - 1)});
    EXPECT_TRUE(all_close(values_of(batch_item(got[0], batch - 1)), values_of(alone[0]), 0.0, 0.0));
  }
  EXPECT_EQ(a.threads(), 2);
}

// What pt2onnx infer's image workers use: splits_batch() says whether a
// batch's rows are its images run alone, and run_on_calling_thread runs one
// image per calling thread, several at once.
TEST(RuntimeBatchSplit, ImagesRunAloneOnTheirCallingThreads) {
  const auto path = efficientnet_like_model().save("batch_split_alone.onnx");
  auto a = runtime::Model::load(path, two_threads(true));
  EXPECT_TRUE(a.splits_batch());
  EXPECT_FALSE(runtime::Model::load(path, two_threads(false)).splits_batch());
  ModelBuilder fixed;
  fixed.input("x", {2, 4}).output("y");
  fixed.node("Relu", {"x"}, {"y"});
  EXPECT_FALSE(runtime::Model::load(fixed.save("batch_split_fixed.onnx"), two_threads(true)).splits_batch());

  constexpr std::int64_t kImages = 4;
  const auto x = random_tensor({kImages, 3, 224, 224}, 77);
  const auto batch = a.run({x})[0];
  std::vector<Tensor> images;
  for (std::int64_t i = 0; i < kImages; ++i) images.push_back(batch_item(x, i));
  std::vector<std::vector<float>> alone(kImages);
  {
    std::vector<std::jthread> threads;
    for (std::int64_t t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        for (std::int64_t i = t; i < kImages; i += 2) {
          alone[static_cast<std::size_t>(i)] =
              values_of(a.run_on_calling_thread({&images[static_cast<std::size_t>(i)], 1})[0]);
        }
      });
    }
  }
  for (std::int64_t i = 0; i < kImages; ++i) {
    EXPECT_TRUE(all_close(values_of(batch_item(batch, i)), alone[static_cast<std::size_t>(i)], 0.0, 0.0))
        << "image " << i;
  }
  // Inputs are checked as run() checks them.
  EXPECT_THROW(a.run_on_calling_thread({&x, 0}), Error);
  const auto bad = random_tensor({1, 3, 224}, 5);
  EXPECT_THROW(a.run_on_calling_thread({&bad, 1}), Error);
}

}  // namespace
}  // namespace pt2onnx::testing
