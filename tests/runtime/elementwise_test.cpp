// Activations and the broadcasting binary operators against naive versions.
#include <algorithm>
#include <functional>
#include <string>

#include "runtime/naive_ops.h"
#include "runtime/test_model.h"

namespace pt2onnx::testing {
namespace {

const std::vector<std::int64_t> kDims{2, 5, 7, 3};

std::vector<float> run_unary(ModelBuilder& mb, const std::vector<float>& x,
                             const std::vector<std::int64_t>& dims = kDims) {
  return values_of(run_model(mb, "unary.onnx", {make_f32(dims, x)})[0]);
}

TEST(RuntimeActivation, ReluSigmoidHardSwishMatchNaive) {
  const auto x = random_values(static_cast<std::size_t>(numel(kDims)), 11, -6.0f, 6.0f);
  const std::vector<std::pair<std::string, std::function<float(float)>>> ops{
      {"Relu", naive_relu}, {"Sigmoid", naive_sigmoid}, {"HardSwish", naive_hard_swish}};
  for (const auto& [op, f] : ops) {
    SCOPED_TRACE(op);
    ModelBuilder mb;
    mb.input("x", {-1, 5, 7, 3}).output("y");
    mb.node(op, {"x"}, {"y"});
    EXPECT_TRUE(all_close(run_unary(mb, x), map_values(x, f), 1e-5, 1e-5));
  }
}

TEST(RuntimeActivation, HardSigmoidHonoursAlphaAndBeta) {
  const auto x = random_values(static_cast<std::size_t>(numel(kDims)), 12, -6.0f, 6.0f);
  for (auto [alpha, beta] : std::vector<std::pair<float, float>>{{0.2f, 0.5f}, {1.0f / 6.0f, 0.5f}, {0.3f, 0.1f}}) {
    SCOPED_TRACE("HardSigmoid alpha " + std::to_string(alpha) + " beta " + std::to_string(beta));
    ModelBuilder mb;
    mb.input("x", kDims).output("y");
    auto& n = mb.node("HardSigmoid", {"x"}, {"y"});
    set_float(n, "alpha", alpha);
    set_float(n, "beta", beta);
    EXPECT_TRUE(all_close(run_unary(mb, x),
                          map_values(x, [a = alpha, b = beta](float v) { return naive_hard_sigmoid(v, a, b); }), 1e-5,
                          1e-5));
  }
}

TEST(RuntimeActivation, ClipWithInputBoundsAndAttributeBounds) {
  const auto x = random_values(static_cast<std::size_t>(numel(kDims)), 13, -8.0f, 8.0f);
  struct Case {
    std::string name;
    int opset;
    std::optional<float> lo, hi;
  };
  for (const auto& c : std::vector<Case>{{"opset 13 [0, 6]", 13, 0.0f, 6.0f},
                                         {"opset 13 min only", 13, -1.5f, std::nullopt},
                                         {"opset 13 max only", 13, std::nullopt, 2.0f},
                                         {"opset 13 unbounded", 13, std::nullopt, std::nullopt},
                                         {"opset 6 attributes [-1, 3]", 6 + 4, -1.0f, 3.0f}}) {
    SCOPED_TRACE("Clip " + c.name);
    const bool attrs = c.opset < 11;
    ModelBuilder mb(c.opset);
    mb.input("x", kDims).output("y");
    std::vector<std::string> inputs{"x"};
    if (!attrs) {
      if (c.lo) mb.initializer("lo", {}, {*c.lo});
      if (c.hi) mb.initializer("hi", {}, {*c.hi});
      inputs.push_back(c.lo ? "lo" : "");
      if (c.hi) inputs.push_back("hi");
    }
    auto& n = mb.node("Clip", inputs, {"y"});
    if (attrs) {
      set_float(n, "min", *c.lo);
      set_float(n, "max", *c.hi);
    }
    const float lo = c.lo.value_or(-1e30f), hi = c.hi.value_or(1e30f);
    EXPECT_TRUE(
        all_close(run_unary(mb, x), map_values(x, [&](float v) { return std::min(hi, std::max(lo, v)); }), 0, 0));
  }
}

struct BinaryCase {
  std::vector<std::int64_t> a, b;
  bool b_constant = false;
};

void check_binary(const std::string& op, const BinaryCase& c, std::uint32_t seed) {
  SCOPED_TRACE(op + " a " + dims_str(c.a) + (c.b_constant ? " constant b " : " b ") + dims_str(c.b));
  // Divisors kept away from zero so that relative error means something.
  const auto a = random_values(static_cast<std::size_t>(numel(c.a)), seed, 0.5f, 2.0f);
  auto b = random_values(static_cast<std::size_t>(numel(c.b)), seed + 1, 0.5f, 2.0f);
  ModelBuilder mb;
  mb.input("a", c.a).output("y");
  std::vector<Tensor> inputs{make_f32(c.a, a)};
  if (c.b_constant) {
    mb.initializer("b", c.b, b);
  } else {
    mb.input("b", c.b);
    inputs.push_back(make_f32(c.b, b));
  }
  mb.node(op, {"a", "b"}, {"y"});
  std::function<float(float, float)> f;
  if (op == "Add") f = [](float x, float y) { return x + y; };
  if (op == "Sub") f = [](float x, float y) { return x - y; };
  if (op == "Mul") f = [](float x, float y) { return x * y; };
  if (op == "Div") f = [](float x, float y) { return x / y; };
  std::vector<std::int64_t> out_dims;
  const auto want = naive_broadcast(a, c.a, b, c.b, out_dims, f);
  const auto out = run_model(mb, "binary.onnx", inputs);
  EXPECT_EQ(out[0].shape(), out_dims);
  EXPECT_TRUE(all_close(values_of(out[0]), want, 1e-6, 1e-6));
}

TEST(RuntimeBinary, BroadcastingMatchesNaive) {
  const std::vector<BinaryCase> cases{
      {{2, 5, 7, 3}, {2, 5, 7, 3}, false},
      {{2, 5, 7, 3}, {1, 5, 1, 1}, true},   // per-channel constant
      {{2, 5, 7, 3}, {5, 1, 1}, true},      // lower rank
      {{2, 5, 7, 3}, {}, true},             // scalar
      {{2, 5, 7, 3}, {2, 5, 1, 1}, false},  // squeeze-excitation scale
      {{1, 5, 1, 1}, {2, 5, 7, 3}, false},  // the first operand broadcasts
      {{4, 1}, {1, 6}, false},              // both broadcast
      {{3}, {2, 4, 3}, false},
      {{2, 1, 3}, {2, 4, 1}, false},
      {{7}, {7}, true},
      // A middle axis, which oneDNN takes only in its reference loop (Swin's
      // attention mask over the heads): the engine's own loop instead.
      {{2, 8, 3, 7, 7}, {2, 8, 1, 7, 7}, false},
      {{2, 8, 1, 7, 7}, {2, 8, 3, 7, 7}, false},
      {{2, 8, 3, 7, 7}, {8, 1, 7, 7}, true},
      {{2, 1, 3, 1}, {1, 4, 1, 5}, false},
  };
  std::uint32_t seed = 800;
  for (const std::string op : {"Add", "Sub", "Mul", "Div"}) {
    for (const auto& c : cases) check_binary(op, c, seed += 10);
  }
}

TEST(RuntimeBinary, SameTensorOnBothSides) {
  const auto x = random_values(60, 9);
  ModelBuilder mb;
  mb.input("x", {3, 4, 5}).output("y");
  mb.node("Mul", {"x", "x"}, {"y"});
  EXPECT_TRUE(all_close(run_unary(mb, x, {3, 4, 5}), map_values(x, [](float v) { return v * v; }), 1e-6, 1e-6));
}

// A middle-axis broadcast (the engine's own loop) with an activation after
// it, which the passes fuse into the Add: the activation still applies.
TEST(RuntimeBinary, MiddleAxisBroadcastWithFusedActivation) {
  const std::vector<std::int64_t> da{2, 4, 3, 5}, db{2, 4, 1, 5};
  const auto a = random_values(static_cast<std::size_t>(numel(da)), 41);
  const auto b = random_values(static_cast<std::size_t>(numel(db)), 42);
  std::vector<std::int64_t> out_dims;
  const auto want = naive_broadcast(a, da, b, db, out_dims, [](float x, float y) { return std::max(x + y, 0.0f); });
  ASSERT_TRUE(std::any_of(want.begin(), want.end(), [](float v) { return v == 0.0f; }));
  for (bool optimize : {true, false}) {
    SCOPED_TRACE(optimize ? "optimized" : "unoptimized");
    ModelBuilder mb;
    mb.input("a", da).input("b", db).output("y");
    mb.node("Add", {"a", "b"}, {"s"});
    mb.node("Relu", {"s"}, {"y"});
    const auto out = run_model(mb, "binary_relu.onnx", {make_f32(da, a), make_f32(db, b)}, with_passes(optimize));
    EXPECT_TRUE(all_close(values_of(out[0]), want, 1e-6, 1e-6));
  }
}

// Operands that are a Transpose's strided view (attention's [1, 0, 2]
// permutes), which oneDNN's jit binary refuses: a residual sum of [1, 5, 8]
// seen as the permute of [5, 1, 8], a scaling of [3, 5, 4] permuted from
// [5, 3, 4] by a constant scalar, and a Sub of two permuted tensors, against
// naive loops, with the passes on and off.
TEST(RuntimeBinary, TransposedOperandsMatchNaive) {
  struct Case {
    std::string op;
    std::vector<std::int64_t> x, y;  // y: the second input as given, or {} for a constant 0.125
    bool transpose_y;
  };
  const std::vector<Case> cases{
      {"Add", {5, 1, 8}, {1, 5, 8}, false},
      {"Div", {5, 3, 4}, {}, false},
      {"Sub", {5, 3, 4}, {5, 3, 4}, true},
      {"Mul", {2, 3, 4}, {3, 2, 4}, false},
  };
  std::uint32_t seed = 900;
  for (const auto& k : cases) {
    for (bool optimize : {true, false}) {
      SCOPED_TRACE(k.op + " of " + dims_str(k.x) + (optimize ? "" : " unoptimized"));
      ModelBuilder mb;
      mb.input("x", k.x).output("z");
      set_ints(mb.node("Transpose", {"x"}, {"xt"}), "perm", {1, 0, 2});
      std::string second = "c";
      if (k.y.empty()) {
        mb.initializer("c", {}, {0.125f});
      } else {
        mb.input("y", k.y);
        second = "y";
        if (k.transpose_y) {
          set_ints(mb.node("Transpose", {"y"}, {"yt"}), "perm", {1, 0, 2});
          second = "yt";
        }
      }
      mb.node(k.op, {"xt", second}, {"z"});
      const auto x = random_values(static_cast<std::size_t>(numel(k.x)), seed += 10);
      const auto y = random_values(static_cast<std::size_t>(numel(k.y)), seed += 10, 0.5f, 2.0f);
      std::vector<Tensor> inputs{make_f32(k.x, x)};
      if (!k.y.empty()) inputs.push_back(make_f32(k.y, y));
      runtime::Options options;
      options.optimize = optimize;
      const auto out = run_model(mb, "binary_transposed.onnx", inputs, options);
      const auto xt = naive_transpose(x, k.x, {1, 0, 2});
      const auto yt = k.y.empty()     ? std::vector<float>(xt.size(), 0.125f)
                      : k.transpose_y ? naive_transpose(y, k.y, {1, 0, 2})
                                      : y;
      std::vector<float> want(xt.size());
      for (std::size_t i = 0; i < want.size(); ++i) {
        if (k.op == "Add") want[i] = xt[i] + yt[i];
        if (k.op == "Sub") want[i] = xt[i] - yt[i];
        if (k.op == "Mul") want[i] = xt[i] * yt[i];
        if (k.op == "Div") want[i] = xt[i] / yt[i];
      }
      EXPECT_EQ(out[0].shape(), (std::vector<std::int64_t>{k.x[1], k.x[0], k.x[2]}));
      EXPECT_TRUE(all_close(values_of(out[0]), want, 1e-6, 1e-6));
    }
  }
}

}  // namespace
}  // namespace pt2onnx::testing
