#include "exporter/demo_state.h"
#include "common/random.h"

#include <gtest/gtest.h>

#include "graph_fixtures.h"

namespace pt2onnx::exporter {
namespace {

TEST(Random, IsSplitmix64DeterministicAndRoughlyStandardNormal) {
  Random a(42), b(42), c(43);
  EXPECT_EQ(a.next_u64(), b.next_u64());
  EXPECT_NE(Random(42).next_u64(), c.next_u64());
  // splitmix64's published first output for seed 0.
  EXPECT_EQ(Random(0).next_u64(), 0xe220a8397b1dcdafULL);
  Random r(5);
  double sum = 0, sq = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double x = r.normal();
    sum += x;
    sq += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.03);
  EXPECT_NEAR(sq / n, 1.0, 0.05);
}

TEST(DemoState, HasEveryExpectedKeyPlusNumBatchesTrackedInTorchOrder) {
  const auto g = testing::tiny_efficientnet();
  const auto state = demo_state_dict(g, 1);
  std::vector<std::string> expected;
  for (const auto& l : g.layers) {
    for (const auto& spec : l.expected_params()) expected.push_back(nn::state_key(l.path, spec.local_name));
    if (l.kind == nn::LayerKind::BatchNorm2d) expected.push_back(l.path + ".num_batches_tracked");
  }
  std::vector<std::string> keys;
  for (const auto& [k, t] : state.entries) keys.push_back(k);
  EXPECT_EQ(keys, expected);

  const auto* tracked = state.find("features.0.1.num_batches_tracked");
  ASSERT_NE(tracked, nullptr);
  EXPECT_EQ(tracked->dtype(), DType::Int64);
  EXPECT_EQ(tracked->rank(), 0u);
  EXPECT_EQ(tracked->sum(), 0.0);
  for (const auto& [k, t] : state.entries) {
    if (k.ends_with("running_var")) {
      for (float v : t.f32()) EXPECT_GE(v, 0.5f) << k;
    }
  }
  for (const auto& [k, spec] : g.expected_state()) EXPECT_EQ(state.find(k)->shape(), spec.shape) << k;
}

TEST(DemoState, SameSeedSameBytesOtherSeedOtherBytes) {
  const auto g = testing::tiny_efficientnet();
  const auto a = demo_state_dict(g, 9), b = demo_state_dict(g, 9), c = demo_state_dict(g, 10);
  const auto bytes = [](const Tensor& t) { return std::vector<std::byte>(t.bytes().begin(), t.bytes().end()); };
  EXPECT_EQ(bytes(*a.find("classifier.1.weight")), bytes(*b.find("classifier.1.weight")));
  EXPECT_NE(bytes(*a.find("classifier.1.weight")), bytes(*c.find("classifier.1.weight")));
}

TEST(DemoState, BindFillsEveryParameter) {
  auto g = testing::tiny_mixed();
  for (const auto& l : g.layers) EXPECT_EQ(l.params.size(), l.expected_params().size()) << l.path;
}

}  // namespace
}  // namespace pt2onnx::exporter
