// Conv against the naive convolution: padding, stride and dilation corners,
// groups and depthwise, auto_pad, odd sizes, and EfficientNet-B0's real shapes.
#include <string>

#include "runtime/kernels/kernels.h"
#include "runtime/naive_ops.h"
#include "runtime/test_model.h"

namespace pt2onnx::testing {
namespace {

struct ConvCase {
  std::string name;
  Conv2d p;
  bool bias = true;
  std::string auto_pad = "NOTSET";
};

std::string describe(const ConvCase& c) {
  const auto& p = c.p;
  std::ostringstream s;
  s << c.name << ": x [" << p.n << ", " << p.c << ", " << p.h << ", " << p.w << "] -> " << p.m << " kernel " << p.kh
    << "x" << p.kw << " group " << p.group << " stride " << p.sh << "x" << p.sw << " dilation " << p.dh << "x" << p.dw
    << " pads [" << p.pt << ", " << p.pl << ", " << p.pb << ", " << p.pr << "] auto_pad " << c.auto_pad
    << (c.bias ? " bias" : " no bias");
  return s.str();
}

// The explicit pads an auto_pad mode stands for (computed here independently of the runtime).
void resolve_auto_pad(ConvCase& c) {
  auto same = [&](std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t d, std::int64_t& p0, std::int64_t& p1) {
    const auto out = (in + s - 1) / s;
    const auto total = std::max<std::int64_t>(0, (out - 1) * s + (k - 1) * d + 1 - in);
    p0 = c.auto_pad == "SAME_UPPER" ? total / 2 : (total + 1) / 2;
    p1 = total - p0;
  };
  if (c.auto_pad == "SAME_UPPER" || c.auto_pad == "SAME_LOWER") {
    same(c.p.h, c.p.kh, c.p.sh, c.p.dh, c.p.pt, c.p.pb);
    same(c.p.w, c.p.kw, c.p.sw, c.p.dw, c.p.pl, c.p.pr);
  } else if (c.auto_pad == "VALID") {
    c.p.pt = c.p.pl = c.p.pb = c.p.pr = 0;
  }
}

void check_conv(ConvCase c, std::uint32_t seed) {
  SCOPED_TRACE(describe(c));
  const auto p0 = c.p;
  resolve_auto_pad(c);
  const auto& p = c.p;
  const std::vector<std::int64_t> xd{p.n, p.c, p.h, p.w};
  const std::vector<std::int64_t> wd{p.m, p.c / p.group, p.kh, p.kw};
  const auto x = random_values(static_cast<std::size_t>(numel(xd)), seed);
  const auto w = random_values(static_cast<std::size_t>(numel(wd)), seed + 1);
  const auto b = c.bias ? random_values(static_cast<std::size_t>(p.m), seed + 2) : std::vector<float>{};

  ModelBuilder mb;
  mb.input("x", {-1, p.c, p.h, p.w}).output("y");
  mb.initializer("w", wd, w);
  std::vector<std::string> inputs{"x", "w"};
  if (c.bias) {
    mb.initializer("b", {p.m}, b);
    inputs.push_back("b");
  }
  auto& node = mb.node("Conv", inputs, {"y"}, "conv");
  set_ints(node, "kernel_shape", {p.kh, p.kw});
  set_ints(node, "strides", {p.sh, p.sw});
  set_ints(node, "dilations", {p.dh, p.dw});
  set_int(node, "group", p.group);
  if (c.auto_pad == "NOTSET") {
    set_ints(node, "pads", {p0.pt, p0.pl, p0.pb, p0.pr});
  } else {
    set_string(node, "auto_pad", c.auto_pad);
  }
  const auto out = run_model(mb, "conv.onnx", {make_f32(xd, x)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape(), (Shape{p.n, p.m, p.oh(), p.ow()}));
  EXPECT_TRUE(all_close(values_of(out[0]), naive_conv2d(x, w, b, p)));
}

ConvCase make(std::string name, std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w, std::int64_t m,
              std::int64_t k, std::int64_t stride = 1, std::int64_t pad = 0, std::int64_t group = 1,
              std::int64_t dilation = 1) {
  ConvCase cc;
  cc.name = std::move(name);
  cc.p = {n, c, h, w, m, k, k, group, stride, stride, dilation, dilation, pad, pad, pad, pad};
  return cc;
}

TEST(RuntimeConv, SmallShapesMatchNaive) {
  std::vector<ConvCase> cases{
      make("3x3 pad 1", 2, 3, 7, 9, 5, 3, 1, 1),
      make("stride 2 odd sizes", 1, 4, 11, 7, 3, 3, 2, 1),
      make("dilation 2", 1, 5, 13, 10, 4, 3, 1, 2, 1, 2),
      make("stride 3 kernel 2", 1, 3, 10, 11, 2, 2, 3, 0),
      make("groups 2", 2, 6, 8, 7, 4, 3, 1, 1, 2),
      make("depthwise stride 2", 1, 8, 9, 9, 8, 3, 2, 1, 8),
      make("depthwise multiplier 2", 1, 4, 6, 5, 8, 3, 1, 1, 4),
      make("1x1", 3, 17, 5, 3, 9, 1),
      make("kernel covers input", 1, 3, 4, 4, 2, 4),
      make("pad larger than half kernel", 1, 2, 5, 6, 3, 3, 2, 2),
  };
  ConvCase asym = make("asymmetric pads, rectangular kernel", 1, 4, 11, 6, 3, 3, 2);
  asym.p.kw = 2;
  asym.p.pt = 0;
  asym.p.pl = 1;
  asym.p.pb = 2;
  asym.p.pr = 1;
  cases.push_back(asym);
  ConvCase nobias = make("no bias, dilation 3x1, stride 1x2", 2, 3, 12, 9, 4, 3);
  nobias.bias = false;
  nobias.p.dh = 3;
  nobias.p.sw = 2;
  cases.push_back(nobias);
  std::uint32_t seed = 100;
  for (const auto& c : cases) check_conv(c, seed += 10);
}

TEST(RuntimeConv, AutoPadModesMatchNaive) {
  std::uint32_t seed = 200;
  for (std::string mode : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
    for (auto base : {make("k4 s2", 1, 3, 9, 10, 4, 4, 2), make("k3 s1", 2, 2, 6, 5, 3, 3, 1),
                      make("k5 s3 dilation 2", 1, 2, 17, 14, 2, 5, 3, 0, 1, 2),
                      make("depthwise k3 s2", 1, 6, 7, 8, 6, 3, 2, 0, 6)}) {
      base.auto_pad = mode;
      base.name += " " + mode;
      check_conv(base, seed += 10);
    }
  }
}

TEST(RuntimeConv, EfficientNetB0ShapesMatchNaive) {
  std::vector<ConvCase> cases{
      make("stem 3->32 3x3 s2", 1, 3, 224, 224, 32, 3, 2, 1),
      make("depthwise 32 3x3 at 112", 1, 32, 112, 112, 32, 3, 1, 1, 32),
      make("project 96->24 1x1 at 56", 1, 96, 56, 56, 24, 1),
      make("expand 24->144 1x1 at 56", 1, 24, 56, 56, 144, 1),
      make("depthwise 144 5x5 s2 at 56", 1, 144, 56, 56, 144, 5, 2, 2, 144),
      make("SE reduce 96->4 1x1 at 1", 1, 96, 1, 1, 4, 1),
      make("SE expand 4->96 1x1 at 1", 1, 4, 1, 1, 96, 1),
      make("head 320->1280 1x1 at 7", 1, 320, 7, 7, 1280, 1),
      make("depthwise 672 5x5 at 14, batch 2", 2, 672, 14, 14, 672, 5, 1, 2, 672),
  };
  std::uint32_t seed = 300;
  for (const auto& c : cases) check_conv(c, seed += 10);
}

// A 1-D convolution is the 2-D one over height 1.
TEST(RuntimeConv, OneDimensionalMatchesNaive) {
  Conv2d p{2, 3, 1, 19, 4, 1, 3, 1, 1, 2, 1, 2, 0, 1, 0, 2};
  const auto x = random_values(2 * 3 * 19, 7);
  const auto w = random_values(4 * 3 * 3, 8);
  const auto b = random_values(4, 9);
  ModelBuilder mb;
  mb.input("x", {2, 3, 19}).output("y");
  mb.initializer("w", {4, 3, 3}, w);
  mb.initializer("b", {4}, b);
  auto& node = mb.node("Conv", {"x", "w", "b"}, {"y"});
  set_ints(node, "strides", {2});
  set_ints(node, "dilations", {2});
  set_ints(node, "pads", {1, 2});
  const auto out = run_model(mb, "conv1d.onnx", {make_f32({2, 3, 19}, x)});
  EXPECT_EQ(out[0].shape(), (Shape{2, 4, p.ow()}));
  EXPECT_TRUE(all_close(values_of(out[0]), naive_conv2d(x, w, b, p)));
}

// RegNet's block: 1x1, grouped 3x3, 1x1. Where the 1x1 convolution writes
// channels-last, the grouped one keeps that layout rather than its own
// channel blocks, so no reorder runs between the three; same numbers.
TEST(RuntimeConv, GroupedConvolutionKeepsAChannelsLastInput) {
  const Conv2d pointwise{1, 64, 28, 28, 64, 1, 1};
  Conv2d grouped{1, 64, 28, 28, 64, 3, 3, 4};
  grouped.pt = grouped.pl = grouped.pb = grouped.pr = 1;
  const auto x = random_values(64 * 28 * 28, 11);
  const auto wa = random_values(64 * 64, 12);
  const auto wb = random_values(64 * 16 * 9, 13);
  const auto wc = random_values(64 * 64, 14);
  ModelBuilder mb;
  mb.input("x", {1, 64, 28, 28}).output("y");
  mb.initializer("wa", {64, 64, 1, 1}, wa);
  mb.initializer("wb", {64, 16, 3, 3}, wb);
  mb.initializer("wc", {64, 64, 1, 1}, wc);
  mb.node("Conv", {"x", "wa"}, {"a"}, "a");
  auto& b = mb.node("Conv", {"a", "wb"}, {"b"}, "b");
  set_int(b, "group", 4);
  set_ints(b, "pads", {1, 1, 1, 1});
  mb.node("Conv", {"b", "wc"}, {"y"}, "c");
  const std::string file = mb.save("grouped_block.onnx");

  const auto compiled = compile_file(file, {{1, 64, 28, 28}}, false);
  const auto& plan = compiled.plan;
  const dnnl::memory::desc channels_last({1, 64, 28, 28}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::acdb);
  bool a_channels_last = false;
  int reorders_after_a = 0;
  for (const auto& step : plan->steps) {
    if (step.label.find("'a'") != std::string::npos && step.primitive &&
        step.primitive->get_kind() == dnnl::primitive::kind::convolution) {
      for (const auto& [arg, slot] : step.args) {
        if (arg == DNNL_ARG_DST) a_channels_last = plan->slots[static_cast<std::size_t>(slot)].md == channels_last;
      }
    }
    const bool activation_reorder = step.primitive && step.primitive->get_kind() == dnnl::primitive::kind::reorder;
    if (activation_reorder &&
        (step.label.find("'b'") != std::string::npos || step.label.find("'c'") != std::string::npos)) {
      ++reorders_after_a;
    }
  }
  if (!a_channels_last) GTEST_SKIP() << "this CPU's 1x1 convolution does not write channels-last";
  EXPECT_EQ(reorders_after_a, 0);

  const auto out = run_model(mb, "grouped_block.onnx", {make_f32({1, 64, 28, 28}, x)});
  const auto a = naive_conv2d(x, wa, {}, pointwise);
  const auto bb = naive_conv2d(a, wb, {}, grouped);
  EXPECT_TRUE(all_close(values_of(out[0]), naive_conv2d(bb, wc, {}, pointwise)));
}

// oneDNN's name for the kernel a plan step runs ("jit_wino_4x3:avx512_core").
std::string impl_of(const runtime::Step& step) {
  const char* info = nullptr;
  if (!step.primitive ||
      dnnl_primitive_desc_query(step.primitive->get_primitive_desc(), dnnl_query_impl_info_str, 0, &info) !=
          dnnl_success ||
      info == nullptr) {
    return "";
  }
  return info;
}

// The Winograd limits by CPU: AMD's family 25 with AVX-512 (Zen 4, 512-bit
// instructions on 256-bit units) takes smaller and joined convolutions;
// every other CPU the limits measured on Zen 5.
TEST(RuntimeConv, WinogradLimitsFollowTheCpu) {
  const runtime::WinogradLimits wide{.min_channels = 64, .min_pixels = 196, .joined = false};
  const runtime::WinogradLimits zen4{.min_channels = 16, .min_pixels = 100, .joined = true};
  EXPECT_EQ(runtime::winograd_limits_for(true, 0x19, true), zen4);
  EXPECT_EQ(runtime::winograd_limits_for(true, 0x19, false), wide);  // Zen 3: no AVX-512
  EXPECT_EQ(runtime::winograd_limits_for(true, 0x1a, true), wide);   // Zen 5
  EXPECT_EQ(runtime::winograd_limits_for(false, 6, true), wide);     // Intel
  const auto& here = runtime::winograd_limits();
  EXPECT_TRUE(here == wide || here == zen4);
}

// A ResNet basic block's second convolution (64 -> 64 channels, 3x3, bias,
// the residual sum and ReLU after it) and a SiLU one (EfficientNet V2's fused
// stages: the activation runs after the Winograd kernel) run Winograd, and
// so does one exactly at this CPU's channel limit; one at half of it and one
// on a map just under its pixel limit run the direct kernel, and one whose
// output a Concat joins runs Winograd only where the CPU's limits allow
// joins. All give the naive numbers, with one and two threads.
TEST(RuntimeConv, LargerThreeByThreeConvolutionsRunWinogradWithTheNaiveNumbers) {
  {
    const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    const auto any = [](const dnnl::memory::dims& d) {
      return dnnl::memory::desc(d, dnnl::memory::data_type::f32, dnnl::memory::format_tag::any);
    };
    try {
      const dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_winograd,
                                              any({1, 64, 16, 16}), any({64, 64, 3, 3}), any({1, 64, 16, 16}), {1, 1},
                                              {1, 1}, {1, 1});
      const dnnl::convolution_forward::primitive_desc pd(d, engine);
    } catch (const dnnl::error&) {
      GTEST_SKIP() << "oneDNN has no Winograd convolution for this CPU";
    }
  }
  const auto& limits = runtime::winograd_limits();
  struct Case {
    std::string name;
    std::int64_t channels;
    std::int64_t side;  // of the square map
    std::string after;  // "Relu" after the residual sum, "SiLU", or "Concat" with the input
    bool winograd;
  };
  // The largest side whose square map has fewer pixels than the limit.
  std::int64_t small = 1;
  while ((small + 1) * (small + 1) < limits.min_pixels) ++small;
  for (const auto& c : {Case{"resnet", 64, 16, "Relu", true}, Case{"silu", 72, 16, "SiLU", true},
                        Case{"at the limit", limits.min_channels, 16, "Relu", true},
                        Case{"narrow", limits.min_channels / 2, 16, "Relu", false},
                        Case{"small", 64, small, "Relu", false}, Case{"joined", 64, 16, "Concat", limits.joined}}) {
    SCOPED_TRACE(c.name);
    const std::int64_t ch = c.channels;
    const std::int64_t side = c.side;
    Conv2d p{1, ch, side, side, ch, 3, 3};
    p.pt = p.pl = p.pb = p.pr = 1;
    const std::vector<std::int64_t> xd{1, ch, side, side};
    const auto x = random_values(static_cast<std::size_t>(numel(xd)), 41, 0.0f, 2.0f);  // a ReLU's output
    const auto w = random_values(static_cast<std::size_t>(ch * ch * 9), 42, -0.1f, 0.1f);
    const auto bias = random_values(static_cast<std::size_t>(ch), 43);
    ModelBuilder mb;
    mb.input("x", xd).output("y");
    mb.initializer("w", {ch, ch, 3, 3}, w);
    mb.initializer("b", {ch}, bias);
    auto& conv = mb.node("Conv", {"x", "w", "b"}, {"c"}, "conv");
    set_ints(conv, "pads", {1, 1, 1, 1});
    if (c.after == "Relu") {
      mb.node("Add", {"c", "x"}, {"s"}, "residual");
      mb.node("Relu", {"s"}, {"y"}, "relu");
    } else if (c.after == "Concat") {
      set_int(mb.node("Concat", {"c", "x"}, {"y"}, "join"), "axis", 1);
    } else {
      mb.node("Sigmoid", {"c"}, {"g"}, "sigmoid");
      mb.node("Mul", {"c", "g"}, {"y"}, "silu");
    }
    const std::string file = mb.save("winograd_" + c.name + ".onnx");

    const auto compiled = compile_file(file, {xd});
    int winograd_steps = 0, convolutions = 0;
    for (const auto& step : compiled.plan->steps) {
      if (!step.primitive || step.primitive->get_kind() != dnnl::primitive::kind::convolution) continue;
      ++convolutions;
      winograd_steps += impl_of(step).find("wino") != std::string::npos ? 1 : 0;
    }
    EXPECT_EQ(convolutions, 1);
    EXPECT_EQ(winograd_steps, c.winograd ? 1 : 0);

    auto want = naive_conv2d(x, w, bias, p);
    for (std::size_t i = 0; i < want.size(); ++i) {
      if (c.after == "Relu") {
        want[i] = std::max(want[i] + x[i], 0.0f);
      } else if (c.after == "SiLU") {
        want[i] = static_cast<float>(want[i] / (1.0 + std::exp(-static_cast<double>(want[i]))));
      }
    }
    if (c.after == "Concat") want.insert(want.end(), x.begin(), x.end());
    for (int threads : {1, 2}) {
      runtime::Options options;
      options.threads = threads;
      options.adaptive_team = false;
      const auto out = run_model(mb, "winograd_" + c.name + ".onnx", {make_f32(xd, x)}, options);
      EXPECT_TRUE(all_close(values_of(out[0]), want, 1e-5, 1e-5)) << threads << " threads";
    }
  }
}

}  // namespace
}  // namespace pt2onnx::testing
