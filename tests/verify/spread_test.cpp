// The float32 spread (the reference against itself rounded differently) on a
// well-conditioned and a deliberately ill-conditioned network, and what the
// verdict makes of each. "Another engine" is the reference rounded with
// another seed: a correct float32 evaluation that differs only in rounding.
#include <gtest/gtest.h>

#include "checkpoint/state_dict.h"
#include "nn/bind.h"
#include "reference/reference.h"
#include "verify/compare.h"

namespace pt2onnx::verify {
namespace {

// input [N, 2, 1, 1] -> Flatten -> Linear(2, 2) -> Linear(2, 1).
nn::LayerGraph two_linears(const Tensor& w1, const Tensor& w2) {
  nn::LayerGraph g;
  g.arch = "two_linears";
  g.input_channels = 2;
  g.input_size = 1;
  g.num_outputs = 1;
  auto x = g.add(nn::LayerKind::Flatten, "flatten", {g.input}, nn::FlattenAttrs{1});
  x = g.add(nn::LayerKind::Linear, "fc1", {x}, nn::LinearAttrs{2, 2, true});
  g.add(nn::LayerKind::Linear, "fc2", {x}, nn::LinearAttrs{2, 1, true});
  checkpoint::StateDict state;
  state.entries.emplace_back("fc1.weight", w1);
  state.entries.emplace_back("fc1.bias", make_f32({2}, {0.0f, 0.0f}));
  state.entries.emplace_back("fc2.weight", w2);
  state.entries.emplace_back("fc2.bias", make_f32({1}, {0.0f}));
  nn::bind(g, state);
  return g;
}

struct Runs {
  Tensor reference, perturbed, other_engine;
};

Runs run_three_ways(const nn::LayerGraph& g, const Tensor& x) {
  const reference::RoundingNoise noise{7, 0};
  const reference::RoundingNoise other{8, 0};
  return {reference::forward(g, x), reference::forward(g, x, &noise), reference::forward(g, x, &other)};
}

const Tensor kInput = make_f32({1, 2, 1, 1}, {0.8125f, 1.171875f});

TEST(Spread, AWellConditionedProbeIsJudgedByTheToleranceAndCatchesAWrongWeight) {
  const auto g = two_linears(make_f32({2, 2}, {1.5f, 2.0f, -0.5f, 3.0f}), make_f32({1, 2}, {1.0f, 1.0f}));
  const auto runs = run_three_ways(g, kInput);
  const auto c = compare(runs.other_engine, runs.reference, runs.perturbed, Tolerance{}, ProbeRole::Stress);
  EXPECT_EQ(c.verdict, Verdict::Ok);
  EXPECT_GT(c.spread, 0.0);   // rounding moved it...
  EXPECT_LT(c.spread, 1e-5);  // ...by float32's few ulps of a logit near 7
  EXPECT_NEAR(c.threshold, 1e-2 + 1e-3 * std::abs(runs.reference.f32()[0]), 1e-9);
  // One weight 2% off is far beyond that.
  const auto wrong = two_linears(make_f32({2, 2}, {1.53f, 2.0f, -0.5f, 3.0f}), make_f32({1, 2}, {1.0f, 1.0f}));
  const Tensor wrong_out = reference::forward(wrong, kInput);
  EXPECT_EQ(compare(wrong_out, runs.reference, runs.perturbed, Tolerance{}, ProbeRole::Stress).verdict,
            Verdict::Failed);
}

// The logit is the small difference of two values near 2e6, where float32's
// ulp is 0.25: any float32 evaluation lands a few tenths off, while the
// tolerance on a logit near -1 is 0.011.
nn::LayerGraph cancelling() {
  return two_linears(make_f32({2, 2}, {1e6f, 1e6f, 1e6f, 1.000001e6f}), make_f32({1, 2}, {1.0f, -1.0f}));
}

TEST(Spread, AnIllConditionedProbeIsUnstableNotFailed) {
  const auto runs = run_three_ways(cancelling(), kInput);
  const auto c = compare(runs.other_engine, runs.reference, runs.perturbed, Tolerance{}, ProbeRole::Stress);
  EXPECT_GT(c.spread, c.tolerance);
  EXPECT_EQ(c.verdict, Verdict::Unstable);
  EXPECT_GT(c.max_abs_diff, c.tolerance) << "the other evaluation is off by more than the plain tolerance too";
}

TEST(Spread, AnIllConditionedProductionProbeIsHeldToItsSpreadMultiple) {
  const auto runs = run_three_ways(cancelling(), kInput);
  // A correct, differently rounded evaluation passes...
  const auto c = compare(runs.other_engine, runs.reference, runs.perturbed, Tolerance{}, ProbeRole::Production);
  EXPECT_EQ(c.verdict, Verdict::Ok);
  EXPECT_DOUBLE_EQ(c.threshold, Tolerance{}.spread_multiple * c.spread);
  // ...a wrong one does not: the second weight of fc2 at -1.5 moves the logit by about 1e6.
  const auto wrong = two_linears(make_f32({2, 2}, {1e6f, 1e6f, 1e6f, 1.000001e6f}), make_f32({1, 2}, {1.0f, -1.5f}));
  EXPECT_EQ(
      compare(reference::forward(wrong, kInput), runs.reference, runs.perturbed, Tolerance{}, ProbeRole::Production)
          .verdict,
      Verdict::Failed);
}

}  // namespace
}  // namespace pt2onnx::verify
