// MaxPool, AveragePool and GlobalAveragePool against the naive pools:
// padding, stride, dilation, ceil_mode (PyTorch's rule), count_include_pad, auto_pad.
#include <string>

#include "runtime/dnnl_util.h"
#include "runtime/naive_ops.h"
#include "runtime/test_model.h"

namespace pt2onnx::testing {
namespace {

struct PoolCase {
  std::string name;
  Pool2d p;
  std::string auto_pad = "NOTSET";
};

std::string describe(const PoolCase& c, bool max) {
  const auto& p = c.p;
  std::ostringstream s;
  s << (max ? "MaxPool " : "AveragePool ") << c.name << ": x [" << p.n << ", " << p.c << ", " << p.h << ", " << p.w
    << "] kernel " << p.kh << "x" << p.kw << " stride " << p.sh << "x" << p.sw << " dilation " << p.dh << "x" << p.dw
    << " pads [" << p.pt << ", " << p.pl << ", " << p.pb << ", " << p.pr << "] ceil_mode " << p.ceil_mode
    << " count_include_pad " << p.count_include_pad << " auto_pad " << c.auto_pad;
  return s.str();
}

void check_pool(PoolCase c, bool max, std::uint32_t seed) {
  SCOPED_TRACE(describe(c, max));
  const auto given = c.p;
  if (c.auto_pad == "SAME_UPPER" || c.auto_pad == "SAME_LOWER") {
    auto same = [&](std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t& p0, std::int64_t& p1) {
      const auto out = (in + s - 1) / s;
      const auto total = std::max<std::int64_t>(0, (out - 1) * s + k - in);
      p0 = c.auto_pad == "SAME_UPPER" ? total / 2 : (total + 1) / 2;
      p1 = total - p0;
    };
    same(c.p.h, c.p.kh, c.p.sh, c.p.pt, c.p.pb);
    same(c.p.w, c.p.kw, c.p.sw, c.p.pl, c.p.pr);
  }
  const auto& p = c.p;
  const std::vector<std::int64_t> xd{p.n, p.c, p.h, p.w};
  const auto x = random_values(static_cast<std::size_t>(numel(xd)), seed);
  ModelBuilder mb;
  mb.input("x", {-1, p.c, p.h, p.w}).output("y");
  auto& node = mb.node(max ? "MaxPool" : "AveragePool", {"x"}, {"y"}, "pool");
  set_ints(node, "kernel_shape", {p.kh, p.kw});
  set_ints(node, "strides", {p.sh, p.sw});
  if (max) set_ints(node, "dilations", {p.dh, p.dw});
  if (p.ceil_mode) set_int(node, "ceil_mode", 1);
  if (!max) set_int(node, "count_include_pad", p.count_include_pad ? 1 : 0);
  if (c.auto_pad == "NOTSET") {
    set_ints(node, "pads", {given.pt, given.pl, given.pb, given.pr});
  } else {
    set_string(node, "auto_pad", c.auto_pad);
  }
  const auto out = run_model(mb, "pool.onnx", {make_f32(xd, x)});
  EXPECT_EQ(out[0].shape(), (Shape{p.n, p.c, p.oh(), p.ow()}));
  EXPECT_TRUE(all_close(values_of(out[0]), naive_pool2d(x, p, max), 1e-5, 1e-5));
}

PoolCase make(std::string name, std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w, std::int64_t k,
              std::int64_t s, std::int64_t pad = 0, bool ceil_mode = false, std::int64_t dilation = 1) {
  PoolCase pc;
  pc.name = std::move(name);
  pc.p = {n, c, h, w, k, k, s, s, dilation, dilation, pad, pad, pad, pad, ceil_mode, false};
  return pc;
}

std::vector<PoolCase> common_cases() {
  std::vector<PoolCase> cases{
      make("resnet stem 3x3 s2 p1", 1, 64, 112, 112, 3, 2, 1),
      make("2x2 s2 odd size", 2, 3, 7, 9, 2, 2),
      make("3x3 s1 p1", 1, 5, 6, 5, 3, 1, 1),
      make("ceil_mode odd size", 1, 3, 7, 9, 2, 2, 0, true),
      make("ceil_mode, last window would start in the padding", 1, 2, 5, 5, 2, 2, 1, true),
      make("ceil_mode 3x3 s2 p1", 2, 4, 10, 11, 3, 2, 1, true),
      make("kernel 3 stride 3 ceil", 1, 2, 8, 10, 3, 3, 0, true),
  };
  PoolCase asym = make("asymmetric pads rectangular kernel", 1, 3, 9, 8, 3, 2);
  asym.p.kw = 2;
  asym.p.pt = 1;
  asym.p.pl = 0;
  asym.p.pb = 2;
  asym.p.pr = 1;
  cases.push_back(asym);
  return cases;
}

TEST(RuntimePool, MaxPoolMatchesNaive) {
  std::uint32_t seed = 400;
  auto cases = common_cases();
  cases.push_back(make("dilation 2", 1, 3, 11, 12, 3, 1, 2, false, 2));
  cases.push_back(make("dilation 2 stride 2 ceil", 1, 3, 11, 12, 3, 2, 1, true, 2));
  for (const auto& c : cases) check_pool(c, true, seed += 10);
}

TEST(RuntimePool, AveragePoolMatchesNaiveWithAndWithoutPadCounting) {
  std::uint32_t seed = 500;
  for (bool count_pad : {false, true}) {
    for (auto c : common_cases()) {
      c.p.count_include_pad = count_pad;
      check_pool(c, false, seed += 10);
    }
  }
}

TEST(RuntimePool, AutoPadModesMatchNaive) {
  std::uint32_t seed = 600;
  for (std::string mode : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
    for (bool max : {true, false}) {
      for (auto c :
           {make("k3 s2", 1, 3, 9, 10, 3, 2), make("k2 s1", 2, 2, 5, 6, 2, 1), make("k4 s3", 1, 2, 10, 11, 4, 3)}) {
        c.auto_pad = mode;
        check_pool(c, max, seed += 10);
      }
    }
  }
}

TEST(RuntimePool, GlobalAveragePoolMatchesNaive) {
  std::uint32_t seed = 700;
  for (const auto& d :
       std::vector<std::vector<std::int64_t>>{{2, 5, 7, 9}, {1, 1280, 7, 7}, {3, 4, 1, 1}, {1, 96, 56, 56}}) {
    SCOPED_TRACE("GlobalAveragePool x " + dims_str(d));
    const auto x = random_values(static_cast<std::size_t>(numel(d)), seed += 10);
    ModelBuilder mb;
    mb.input("x", d).output("y");
    mb.node("GlobalAveragePool", {"x"}, {"y"});
    const auto out = run_model(mb, "gap.onnx", {make_f32(d, x)});
    Pool2d p{d[0], d[1], d[2], d[3], d[2], d[3], 1, 1, 1, 1, 0, 0, 0, 0, false, false};
    EXPECT_EQ(out[0].shape(), (Shape{d[0], d[1], 1, 1}));
    EXPECT_TRUE(all_close(values_of(out[0]), naive_pool2d(x, p, false), 1e-5, 1e-5));
  }
}

// A squeeze-excitation's squeeze: the mean of a convolution's channels-last
// (or channel-blocked) output runs the engine's own loop, not oneDNN's
// pooling, at batch 1 and 3, with one and two threads, and gives the naive
// numbers.
TEST(RuntimePool, GlobalAveragePoolOfAConvolutionRunsTheEnginesLoop) {
  for (const std::int64_t batch : {1, 3}) {
    const Conv2d conv{batch, 24, 30, 30, 32, 1, 1};
    const std::vector<std::int64_t> xd{batch, 24, 30, 30};
    const auto x = random_values(static_cast<std::size_t>(numel(xd)), 31);
    const auto w = random_values(32 * 24, 32);
    ModelBuilder mb;
    mb.input("x", xd).output("y");
    mb.initializer("w", {32, 24, 1, 1}, w);
    mb.node("Conv", {"x", "w"}, {"a"}, "conv");
    mb.node("GlobalAveragePool", {"a"}, {"y"}, "squeeze");
    const std::string file = mb.save("conv_gap.onnx");
    const auto compiled = compile_file(file, {xd});
    bool conv_writes_channels_last = false;
    for (const auto& step : compiled.plan->steps) {
      if (step.primitive && step.primitive->get_kind() == dnnl::primitive::kind::convolution) {
        for (const auto& [arg, slot] : step.args) {
          const auto& md = compiled.plan->slots[static_cast<std::size_t>(slot)].md;
          if (arg == DNNL_ARG_DST) conv_writes_channels_last = !runtime::is_plain(md);
        }
      }
    }
    if (!conv_writes_channels_last) GTEST_SKIP() << "this CPU's 1x1 convolution writes a plain layout";
    EXPECT_EQ(compiled.count(dnnl::primitive::kind::pooling_v2), 0) << "batch " << batch;

    const auto a = naive_conv2d(x, w, {}, conv);
    const Pool2d p{batch, 32, 30, 30, 30, 30, 1, 1, 1, 1, 0, 0, 0, 0, false, false};
    const auto want = naive_pool2d(a, p, false);
    for (int threads : {1, 2}) {
      runtime::Options options;
      options.threads = threads;
      options.split_batch = false;  // batch 3 on the team, not an image per thread
      options.adaptive_team = false;
      const auto out = run_model(mb, "conv_gap.onnx", {make_f32(xd, x)}, options);
      EXPECT_EQ(out[0].shape(), (Shape{batch, 32, 1, 1}));
      EXPECT_TRUE(all_close(values_of(out[0]), want, 1e-5, 1e-5)) << "batch " << batch << ", " << threads << " threads";
    }
  }
}

}  // namespace
}  // namespace pt2onnx::testing
