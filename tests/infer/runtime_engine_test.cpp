// infer's engine on the pt2onnx runtime: which models get image workers, and
// that an image run alone gives the row the batch gives it.
#include "infer/runtime_engine.h"

#include <gtest/gtest.h>

#include "runtime/efficientnet_like.h"

namespace pt2onnx::testing {
namespace {

TEST(InferRuntimeEngine, ImagesAloneGiveTheBatchsRows) {
  const auto path = efficientnet_like_model().save("infer_engine_eff.onnx");
  infer::LoadedEngine loaded = infer::load_runtime_engine(path, 2);
  EXPECT_EQ(loaded.signature.batch, -1);
  EXPECT_EQ(loaded.signature.height, 224);
  EXPECT_EQ(loaded.signature.width, 224);
  ASSERT_TRUE(loaded.engine->runs_images_alone());
  const auto batch = random_tensor({3, 3, 224, 224}, 41);
  const auto rows = loaded.engine->run(batch);
  ASSERT_EQ(rows.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(all_close(loaded.engine->run_image(batch_item(batch, static_cast<std::int64_t>(i))), rows[i], 0.0, 0.0))
        << "image " << i;
  }
}

// A fixed batch size: whole batches, the last one padded.
TEST(InferRuntimeEngine, FixedBatchRunsWholeBatches) {
  ModelBuilder mb;
  mb.input("image", {2, 3, 4, 4}).output("y");
  mb.initializer("w", {5, 3, 4, 4}, random_values(5 * 3 * 16, 8));
  mb.node("Conv", {"image", "w"}, {"y"});
  infer::LoadedEngine loaded = infer::load_runtime_engine(mb.save("infer_engine_fixed.onnx"), 2);
  EXPECT_EQ(loaded.signature.batch, 2);
  EXPECT_EQ(loaded.signature.num_outputs, 5);
  EXPECT_FALSE(loaded.engine->runs_images_alone());
  const auto two = random_tensor({2, 3, 4, 4}, 9);
  const auto both = loaded.engine->run(two);
  const auto one = loaded.engine->run(batch_item(two, 0));
  ASSERT_EQ(both.size(), 2u);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_TRUE(all_close(one[0], both[0], 0.0, 0.0));
}

}  // namespace
}  // namespace pt2onnx::testing
