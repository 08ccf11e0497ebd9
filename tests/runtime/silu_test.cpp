// The engine's own SiLU loop (src/runtime/kernels/silu.cpp): against a
// double-precision x / (1 + exp(-x)) over the whole float range that
// matters, in place and not, on teams of one to three threads; and inside a
// plan, where it takes over a convolution's last SiLU from oneDNN's fused
// post-op (1x1, depthwise, Winograd in conv_test.cpp), with the result
// against a naive convolution.
#include <dnnl.h>
#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "runtime/kernels/kernels.h"
#include "runtime/naive_ops.h"
#include "runtime/test_model.h"
#include "runtime/threads.h"

namespace pt2onnx::testing {
namespace {

double exact_silu(double x) { return x / (1.0 + std::exp(-x)); }

// Every value the kernel's branches meet: a fine sweep through [-100, 100]
// (exp's clamp sits at -87 and 88), tiny and huge magnitudes, zeros; a
// count that leaves a tail shorter than one 16-lane vector and spans
// several of the loop's chunks.
std::vector<float> sweep() {
  std::vector<float> x;
  for (int i = -200000; i <= 200000; ++i) x.push_back(static_cast<float>(i) * 5e-4f);
  for (const float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-7f, -1e-7f, 86.9f, -86.9f, 87.5f, -87.5f, 88.5f, -88.5f, 89.0f,
                        -89.0f, 1e4f, 1e30f, -1e4f, -1e30f, 3.0e38f}) {
    x.push_back(v);
  }
  return x;  // 400020 values: 4 left after the last full vector
}

TEST(RuntimeSilu, MatchesDoublePrecisionOnEveryTeamInPlaceOrNot) {
  if (!runtime::own_loops_available()) GTEST_SKIP() << "no AVX-512: convolutions keep oneDNN's fused SiLU";
  const auto x = sweep();
  ASSERT_EQ(x.size() % 16, 4U);
  for (int threads : {1, 2, 3}) {
    for (bool in_place : {false, true}) {
      SCOPED_TRACE(std::to_string(threads) + " threads" + (in_place ? ", in place" : ""));
      std::vector<float> y(x.size(), std::numeric_limits<float>::quiet_NaN());
      if (in_place) y = x;
      {
        runtime::ScopedThreadCount team(threads);
        runtime::silu(in_place ? y.data() : x.data(), y.data(), static_cast<std::int64_t>(x.size()));
      }
      double worst = 0.0;
      for (std::size_t i = 0; i < x.size(); ++i) {
        const double want = exact_silu(x[i]);
        const double got = y[i];
        ASSERT_TRUE(std::isfinite(got)) << "x = " << x[i];
        // Relative where the true value is a normal float; below that only
        // its size matters (x e^x for x below -87 is under 1e-36).
        if (std::fabs(want) < 1e-36) {
          ASSERT_LE(std::fabs(got), 1e-35) << "x = " << x[i];
          continue;
        }
        const double err = std::fabs(got - want) / std::fabs(want);
        worst = std::max(worst, err);
        ASSERT_LE(err, 4e-7) << "x = " << x[i] << " got " << got << " want " << want;
      }
      RecordProperty("worst_relative_error", fmt::format("{:.3g}", worst));
    }
  }
}

TEST(RuntimeSilu, KeepsNanAndInfinity) {
  if (!runtime::own_loops_available()) GTEST_SKIP() << "no AVX-512";
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> y{std::numeric_limits<float>::quiet_NaN(), inf, 2.0f};
  runtime::silu(y.data(), y.data(), 3);
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(y[1], inf);
  EXPECT_NEAR(y[2], exact_silu(2.0), 1e-6);
}

// The number of post-ops fused into a step's primitive.
int fused_post_ops(const runtime::Step& step) {
  const_dnnl_primitive_attr_t attr = nullptr;
  const_dnnl_post_ops_t ops = nullptr;
  if (dnnl_primitive_desc_get_attr(step.primitive->get_primitive_desc(), &attr) != dnnl_success ||
      dnnl_primitive_attr_get_post_ops(attr, &ops) != dnnl_success) {
    return -1;
  }
  return dnnl_post_ops_len(ops);
}

TEST(RuntimeSilu, TakesOverAConvolutionsLastSiluAndMatchesANaiveConvolution) {
  struct Case {
    std::string name;
    std::int64_t in, out, size, kernel, group;
    bool residual;  // Add(conv, x) before the SiLU: a fused sum stays in the primitive
  };
  for (const auto& c : {Case{"expand 1x1", 16, 96, 28, 1, 1, false}, Case{"depthwise 3x3", 40, 40, 15, 3, 40, false},
                        Case{"residual", 24, 24, 9, 1, 1, true}}) {
    SCOPED_TRACE(c.name);
    Conv2d p{1, c.in, c.size, c.size, c.out, c.kernel, c.kernel};
    p.group = c.group;
    p.pt = p.pl = p.pb = p.pr = c.kernel / 2;
    const std::vector<std::int64_t> xd{1, c.in, c.size, c.size};
    const auto x = random_values(static_cast<std::size_t>(numel(xd)), 61, -3.0f, 3.0f);
    const auto w =
        random_values(static_cast<std::size_t>(c.out * c.in / c.group * c.kernel * c.kernel), 62, -1.0f, 1.0f);
    const auto bias = random_values(static_cast<std::size_t>(c.out), 63);
    ModelBuilder mb;
    mb.input("x", xd).output("y");
    mb.initializer("w", {c.out, c.in / c.group, c.kernel, c.kernel}, w);
    mb.initializer("b", {c.out}, bias);
    auto& conv = mb.node("Conv", {"x", "w", "b"}, {"c"}, "conv");
    set_int(conv, "group", c.group);
    set_ints(conv, "pads", {c.kernel / 2, c.kernel / 2, c.kernel / 2, c.kernel / 2});
    std::string act_in = "c";
    if (c.residual) {
      mb.node("Add", {"c", "x"}, {"s"}, "residual");
      act_in = "s";
    }
    mb.node("Sigmoid", {act_in}, {"g"}, "sigmoid");
    mb.node("Mul", {act_in, "g"}, {"y"}, "silu");
    const std::string file = mb.save("silu_conv.onnx");

    const auto compiled = compile_file(file, {xd});
    int convolutions = 0, own_steps = 0;
    for (const auto& step : compiled.plan->steps) {
      if (!step.primitive) {
        ++own_steps;
        continue;
      }
      if (step.primitive->get_kind() != dnnl::primitive::kind::convolution) continue;
      ++convolutions;
      // The residual sum stays fused; the SiLU is the engine's own step
      // where the CPU has AVX-512, else oneDNN's fused eltwise.
      const int fused = (c.residual ? 1 : 0) + (runtime::own_loops_available() ? 0 : 1);
      EXPECT_EQ(fused_post_ops(step), fused);
    }
    EXPECT_EQ(convolutions, 1);
    EXPECT_EQ(own_steps, runtime::own_loops_available() ? 1 : 0);

    auto want = naive_conv2d(x, w, bias, p);
    for (std::size_t i = 0; i < want.size(); ++i) {
      const double v = static_cast<double>(want[i]) + (c.residual ? x[i] : 0.0f);
      want[i] = static_cast<float>(exact_silu(v));
    }
    for (int threads : {1, 2}) {
      runtime::Options options;
      options.threads = threads;
      options.adaptive_team = false;
      const auto out = run_model(mb, "silu_conv.onnx", {make_f32(xd, x)}, options);
      EXPECT_TRUE(all_close(values_of(out[0]), want, 1e-5, 1e-5)) << threads << " threads";
    }
  }
}

}  // namespace
}  // namespace pt2onnx::testing
