// The whole optimized engine (passes, fused post-ops, layouts, arena reuse)
// against the same model with every pass off, on EfficientNet-B0's shapes:
// the same outputs within 1e-4 relative, and the fusions the speed depends
// on really fire.
#include <algorithm>
#include <cmath>

#include "runtime/efficientnet_like.h"
#include "runtime/onnx_loader.h"
#include "runtime/passes/pipeline.h"
#include "runtime/planner.h"
#include "runtime/shape_inference.h"

namespace pt2onnx::testing {
namespace {

using runtime::OpType;

// |got - want| <= 1e-4 * (|want| + max |want|): relative, with the scale of
// the whole output as the floor for values near zero.
::testing::AssertionResult close_relative(const std::vector<float>& got, const std::vector<float>& want) {
  double scale = 0.0;
  for (auto w : want) scale = std::max(scale, std::fabs(static_cast<double>(w)));
  return all_close(got, want, 1e-4 * scale, 1e-4);
}

TEST(RuntimeEfficientNetLike, OptimizedOutputsEqualUnoptimized) {
  const auto path = efficientnet_like_model().save("efficientnet_like.onnx");
  runtime::Options plain;
  plain.optimize = false;
  auto optimized = runtime::Model::load(path);
  auto unoptimized = runtime::Model::load(path, plain);
  for (std::int64_t batch : {1, 2}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    const auto x = random_tensor({batch, 3, 224, 224}, 11 + static_cast<std::uint32_t>(batch));
    const auto want = unoptimized.run({x});
    // Twice: the second run reuses the cached plan and its arena.
    for (int run = 0; run < 2; ++run) {
      const auto got = optimized.run({x});
      ASSERT_EQ(got.size(), 2u);
      for (std::size_t i = 0; i < got.size(); ++i) {
        SCOPED_TRACE("output " + std::to_string(i) + ", run " + std::to_string(run));
        EXPECT_TRUE(close_relative(values_of(got[i]), values_of(want[i])));
      }
    }
    EXPECT_GT(std::fabs(values_of(want[1])[0]), 0.0f);
  }
}

TEST(RuntimeEfficientNetLike, FusionsFire) {
  auto loaded = runtime::load_onnx_file(efficientnet_like_model().save("efficientnet_like.onnx"));
  runtime::infer_shapes(loaded.graph);
  runtime::run_passes(loaded.graph, {});
  const auto g = runtime::specialize(loaded.graph, {{1, 3, 224, 224}}, {});
  // 10 stem/expand/head convs + 9 depthwise + 9 project + 18 squeeze-excitation.
  EXPECT_EQ(g.count(OpType::Conv), 46);
  EXPECT_EQ(g.count(OpType::BatchNormalization), 0);
  EXPECT_EQ(g.count(OpType::Sigmoid), 0);  // SiLU and the SE gate are conv post-ops
  EXPECT_EQ(g.count(OpType::Swish), 0);
  EXPECT_EQ(g.count(OpType::Add), 0);  // residuals are sum post-ops
  int sums = 0;
  for (auto id : g.order()) {
    for (const auto& p : g.node(id).post_ops) sums += p.kind == runtime::PostOpKind::Sum ? 1 : 0;
  }
  EXPECT_EQ(sums, 2);
}

}  // namespace
}  // namespace pt2onnx::testing
