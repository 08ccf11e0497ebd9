// The engine's own matrix-vector loop (src/runtime/kernels/gemv.cpp): the
// kernel against double precision for row counts that leave the four-row
// groups a remainder and column counts that leave the 16-lane vectors a tail,
// on teams of one to three threads; and inside a plan, where it runs a Gemm or
// MatMul of one row by a constant weight (every Gemm variant of alpha, beta,
// C and transB, a fused ReLU, MatMul's fused bias) against naive products,
// while two rows keep oneDNN's matmul.
#include <fmt/format.h>

#include <cmath>

#include "runtime/kernels/kernels.h"
#include "runtime/naive_ops.h"
#include "runtime/test_model.h"
#include "runtime/threads.h"

namespace pt2onnx::testing {
namespace {

TEST(RuntimeGemv, MatchesDoublePrecisionOnEveryTeam) {
  if (!runtime::own_loops_available()) GTEST_SKIP() << "no AVX-512: oneDNN's matmul runs every product";
  std::uint32_t seed = 4100;
  for (const std::int64_t n : {1, 3, 4, 5, 9, 37}) {
    for (const std::int64_t k : {1, 15, 16, 17, 100, 1283}) {
      const auto w = random_values(static_cast<std::size_t>(n * k), ++seed, -2.0f, 2.0f);
      const auto x = random_values(static_cast<std::size_t>(k), ++seed, -3.0f, 3.0f);
      const auto bias = random_values(static_cast<std::size_t>(n), ++seed, -5.0f, 5.0f);
      for (const bool with_bias : {false, true}) {
        for (const int threads : {1, 2, 3}) {
          SCOPED_TRACE(fmt::format("n {} k {} bias {} threads {}", n, k, with_bias, threads));
          // NaN where the kernel must write: a row it skipped shows.
          std::vector<float> y(static_cast<std::size_t>(n), std::nanf(""));
          {
            runtime::ScopedThreadCount team(threads);
            runtime::gemv(w.data(), x.data(), with_bias ? bias.data() : nullptr, y.data(), n, k);
          }
          for (std::int64_t r = 0; r < n; ++r) {
            double exact = with_bias ? bias[static_cast<std::size_t>(r)] : 0.0;
            double magnitude = std::fabs(exact);
            for (std::int64_t i = 0; i < k; ++i) {
              const double p = static_cast<double>(w[static_cast<std::size_t>(r * k + i)]) *
                               static_cast<double>(x[static_cast<std::size_t>(i)]);
              exact += p;
              magnitude += std::fabs(p);
            }
            // Float summation in 16 lanes, then across them: each value passes
            // through at most k / 16 + 6 roundings.
            const auto roundings = k / 16 + 6;
            const double bound = static_cast<double>(roundings) * 6e-8 * magnitude;
            ASSERT_LE(std::fabs(y[static_cast<std::size_t>(r)] - exact), bound) << "row " << r;
          }
        }
      }
    }
  }
}

int count_own_steps(const CompiledPlan& c) {
  int own = 0;
  for (const auto& step : c.plan->steps) own += step.primitive ? 0 : 1;
  return own;
}

struct OneRowGemm {
  std::int64_t k, n;
  bool tb;
  float alpha, beta;
  std::vector<std::int64_t> c;  // empty: no C
  bool relu;
};

TEST(RuntimeGemv, RunsAGemmOfOneRowWithEveryVariantAgainstNaive) {
  const std::vector<OneRowGemm> cases{
      {1283, 37, true, 1.0f, 1.0f, {37}, true},    // a Linear then ReLU, as AlexNet's
      {100, 9, false, 0.5f, 2.0f, {1, 9}, false},  // B as [k, n], alpha and beta
      {17, 5, true, 1.5f, 3.0f, {1}, false},       // a scalar C
      {64, 4, false, 1.0f, 1.0f, {}, true},        // no C
      {33, 2, true, 1.0f, 0.0f, {2}, false},       // beta 0: C ignored
  };
  std::uint32_t seed = 4300;
  for (const auto& g : cases) {
    SCOPED_TRACE(fmt::format("k {} n {} transB {} alpha {} beta {} C {} relu {}", g.k, g.n, g.tb, g.alpha, g.beta,
                             dims_str(g.c), g.relu));
    const std::vector<std::int64_t> ad{1, g.k};
    const std::vector<std::int64_t> bd =
        g.tb ? std::vector<std::int64_t>{g.n, g.k} : std::vector<std::int64_t>{g.k, g.n};
    const auto a = random_values(static_cast<std::size_t>(g.k), ++seed, -3.0f, 3.0f);
    const auto b = random_values(static_cast<std::size_t>(g.k * g.n), ++seed);
    const auto c = random_values(static_cast<std::size_t>(numel(g.c)), ++seed, -4.0f, 4.0f);
    ModelBuilder mb;
    mb.input("a", ad).output("y");
    mb.initializer("b", bd, b);
    std::vector<std::string> names{"a", "b"};
    if (!g.c.empty()) {
      mb.initializer("c", g.c, c);
      names.emplace_back("c");
    }
    auto& node = mb.node("Gemm", names, {g.relu ? "z" : "y"}, "fc");
    if (g.tb) set_int(node, "transB", 1);
    if (g.alpha != 1.0f) set_float(node, "alpha", g.alpha);
    if (g.beta != 1.0f) set_float(node, "beta", g.beta);
    if (g.relu) mb.node("Relu", {"z"}, {"y"}, "relu");
    const std::string file = mb.save("gemv_gemm.onnx");

    std::vector<float> want = naive_matmul2d(a, g.tb ? transpose2d(b, g.n, g.k) : b, 1, g.k, g.n);
    for (std::size_t j = 0; j < want.size(); ++j) {
      want[j] *= g.alpha;
      if (!g.c.empty()) want[j] += g.beta * c[c.size() == 1 ? 0 : j];
      if (g.relu) want[j] = std::max(want[j], 0.0f);
    }
    // With the passes the ReLU is the Gemm's post-op, then a step after the
    // loop; without, its own node.
    for (const bool optimize : {true, false}) {
      const auto compiled = compile_file(file, {ad}, optimize);
      const bool own = runtime::own_loops_available();
      EXPECT_EQ(compiled.count(dnnl::primitive::kind::matmul), own ? 0 : 1);
      EXPECT_EQ(count_own_steps(compiled), own ? 1 : 0);
      for (const int threads : {1, 2, 3}) {
        auto options = with_passes(optimize);
        options.threads = threads;
        options.adaptive_team = false;
        const auto out = run_model(mb, "gemv_gemm.onnx", {make_f32(ad, a)}, options);
        EXPECT_EQ(out[0].shape(), (Shape{1, g.n}));
        EXPECT_TRUE(all_close(values_of(out[0]), want, 1e-4, 1e-5)) << threads << " threads, passes " << optimize;
      }
    }
  }
}

TEST(RuntimeGemv, RunsAMatMulOfOneRowWithItsFusedBiasAndLeavesTwoRowsToOneDnn) {
  struct Case {
    std::vector<std::int64_t> a;
    std::int64_t n;
  };
  std::uint32_t seed = 4500;
  for (const auto& t : {Case{{1, 300}, 7}, Case{{1, 1, 300}, 7}, Case{{300}, 7}, Case{{2, 300}, 7}}) {
    SCOPED_TRACE("MatMul " + dims_str(t.a) + " x [300, 7] + bias");
    const std::int64_t k = 300;
    const auto a = random_values(static_cast<std::size_t>(numel(t.a)), ++seed, -2.0f, 2.0f);
    const auto w = random_values(static_cast<std::size_t>(k * t.n), ++seed);
    const auto bias = random_values(static_cast<std::size_t>(t.n), ++seed, -3.0f, 3.0f);
    ModelBuilder mb;
    mb.input("a", t.a).output("y");
    mb.initializer("w", {k, t.n}, w);
    mb.initializer("bias", {t.n}, bias);
    mb.node("MatMul", {"a", "w"}, {"p"}, "fc");
    mb.node("Add", {"p", "bias"}, {"y"}, "fc_bias");
    const std::string file = mb.save("gemv_matmul.onnx");

    const std::int64_t rows = numel(t.a) / k;
    auto want = naive_matmul2d(a, w, rows, k, t.n);
    for (std::size_t i = 0; i < want.size(); ++i) want[i] += bias[i % static_cast<std::size_t>(t.n)];
    auto out_dims = t.a;
    out_dims.back() = t.n;

    const auto compiled = compile_file(file, {t.a});
    const bool own = runtime::own_loops_available() && rows == 1;
    EXPECT_EQ(compiled.count(dnnl::primitive::kind::matmul), own ? 0 : 1);
    EXPECT_EQ(count_own_steps(compiled), own ? 1 : 0);
    for (const int threads : {1, 2}) {
      runtime::Options options;
      options.threads = threads;
      options.adaptive_team = false;
      const auto out = run_model(mb, "gemv_matmul.onnx", {make_f32(t.a, a)}, options);
      EXPECT_EQ(out[0].shape(), out_dims);
      EXPECT_TRUE(all_close(values_of(out[0]), want, 1e-4, 1e-5)) << threads << " threads";
    }
  }
}

}  // namespace
}  // namespace pt2onnx::testing
