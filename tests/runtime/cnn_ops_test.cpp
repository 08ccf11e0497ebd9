// The operators of ShuffleNet, MNASNet and ConvNeXt against naive_ops.h:
// Transpose (ranks 2 to 6, on plain and on convolution-layout inputs, views of
// views), Slice of an activation, ReduceMean (axes as attribute and as input,
// keepdims, noop_with_empty_axes), LayerNormalization (last and other axes,
// with and without B, broadcast Scale), Erf, and the erf GELU fused into its
// MatMul giving the unfused graph's numbers.
#include <string>

#include "runtime/naive_ops.h"
#include "runtime/onnx_loader.h"
#include "runtime/passes/pipeline.h"
#include "runtime/shape_inference.h"
#include "runtime/test_model.h"

namespace pt2onnx::testing {
namespace {

runtime::Options unoptimized() {
  runtime::Options o;
  o.optimize = false;
  return o;
}

std::vector<std::int64_t> permuted(const std::vector<std::int64_t>& dims, const std::vector<std::int64_t>& perm) {
  std::vector<std::int64_t> out;
  for (auto p : perm) out.push_back(dims[static_cast<std::size_t>(p)]);
  return out;
}

TEST(RuntimeTranspose, EveryRankAndPermMatchesNaive) {
  struct Case {
    std::vector<std::int64_t> dims, perm;
  };
  const std::vector<Case> cases{
      {{3, 5}, {1, 0}},
      {{2, 3, 4}, {2, 0, 1}},
      {{2, 3, 4}, {}},  // no perm: the axes reversed
      {{2, 3, 4, 5}, {0, 2, 3, 1}},
      {{2, 3, 4, 5}, {0, 3, 1, 2}},
      {{2, 3, 4, 5}, {3, 2, 1, 0}},
      {{2, 2, 3, 4, 5}, {0, 2, 1, 3, 4}},  // ShuffleNet's channel shuffle
      {{2, 3, 1, 4, 2, 3}, {5, 1, 3, 0, 4, 2}},
  };
  std::uint32_t seed = 100;
  for (const auto& c : cases) {
    for (bool optimize : {true, false}) {
      SCOPED_TRACE("Transpose " + dims_str(c.dims) + " perm " + dims_str(c.perm) + (optimize ? "" : " unoptimized"));
      const auto x = random_values(static_cast<std::size_t>(numel(c.dims)), seed++);
      ModelBuilder mb;
      mb.input("x", c.dims).output("y");
      auto& n = mb.node("Transpose", {"x"}, {"y"});
      if (!c.perm.empty()) set_ints(n, "perm", c.perm);
      std::vector<std::int64_t> perm = c.perm;
      if (perm.empty()) {
        for (auto k = c.dims.size(); k-- > 0;) perm.push_back(static_cast<std::int64_t>(k));
      }
      const auto out =
          run_model(mb, "transpose.onnx", {make_f32(c.dims, x)}, optimize ? runtime::Options{} : unoptimized());
      EXPECT_EQ(out[0].shape(), permuted(c.dims, perm));
      EXPECT_TRUE(all_close(values_of(out[0]), naive_transpose(x, c.dims, perm), 0, 0));
    }
  }
}

TEST(RuntimeTranspose, ConvLayoutsChainsAndReadersOfTheView) {
  // Conv (blocked or channels-last output) -> Transpose to NHWC -> Relu ->
  // Transpose back -> Add with the conv output -> Transpose [0, 2, 1, 3]: views
  // of views read by eltwise and binary kernels, and a graph output that is a view.
  const std::vector<std::int64_t> xd{2, 3, 5, 6};
  for (std::int64_t channels : {16, 5}) {
    SCOPED_TRACE("channels " + std::to_string(channels));
    const auto x = random_values(static_cast<std::size_t>(numel(xd)), 7);
    const auto w = random_values(static_cast<std::size_t>(channels * 3), 8);
    ModelBuilder mb;
    mb.input("x", xd).output("y").output("t");
    mb.initializer("w", {channels, 3, 1, 1}, w);
    mb.node("Conv", {"x", "w"}, {"c"});
    set_ints(mb.node("Transpose", {"c"}, {"t"}), "perm", {0, 2, 3, 1});
    mb.node("Relu", {"t"}, {"r"});
    set_ints(mb.node("Transpose", {"r"}, {"back"}), "perm", {0, 3, 1, 2});
    mb.node("Add", {"back", "c"}, {"s"});
    set_ints(mb.node("Transpose", {"s"}, {"y"}), "perm", {0, 2, 1, 3});
    const auto out = run_model(mb, "transpose_conv.onnx", {make_f32(xd, x)});
    const Conv2d p{2, 3, 5, 6, channels, 1, 1};
    const auto c = naive_conv2d(x, w, {}, p);
    const std::vector<std::int64_t> cd{2, channels, 5, 6};
    const auto t = naive_transpose(c, cd, {0, 2, 3, 1});
    const auto back = naive_transpose(map_values(t, naive_relu), {2, 5, 6, channels}, {0, 3, 1, 2});
    std::vector<float> s(c.size());
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = back[i] + c[i];
    EXPECT_TRUE(all_close(values_of(out[0]), naive_transpose(s, cd, {0, 2, 1, 3})));
    EXPECT_TRUE(all_close(values_of(out[1]), t));
  }
}

TEST(RuntimeTranspose, ChannelShuffleOfConvOutputsMatchesNaive) {
  // ShuffleNet's block on channels-last convolution outputs: Concat, Reshape
  // to [N, 2, C/2, H, W] (a strided view), Transpose (a view), Reshape back (a
  // copy into a layout the merge can view), chunk(2) as Slices, a Conv on one
  // half; and a Flatten of the shuffled tensor (a copy into NCHW order).
  const std::vector<std::int64_t> xd{2, 3, 5, 4};
  const auto x = random_values(static_cast<std::size_t>(numel(xd)), 81);
  const auto wa = random_values(8 * 3, 82), wb = random_values(8 * 3, 83), wc = random_values(8 * 8, 84);
  ModelBuilder mb;
  mb.input("x", xd).output("lo").output("conv").output("flat");
  mb.initializer("wa", {8, 3, 1, 1}, wa);
  mb.initializer("wb", {8, 3, 1, 1}, wb);
  mb.initializer("wc", {8, 8, 1, 1}, wc);
  mb.node("Conv", {"x", "wa"}, {"a"});
  mb.node("Conv", {"x", "wb"}, {"b"});
  set_int(mb.node("Concat", {"a", "b"}, {"cat"}), "axis", 1);
  mb.initializer_i64("split", {5}, {2, 2, 8, 5, 4});
  mb.node("Reshape", {"cat", "split"}, {"r5"});
  set_ints(mb.node("Transpose", {"r5"}, {"t5"}), "perm", {0, 2, 1, 3, 4});
  mb.initializer_i64("merge", {4}, {2, 16, 5, 4});
  mb.node("Reshape", {"t5", "merge"}, {"shuffled"});
  mb.initializer_i64("starts", {1}, {0});
  mb.initializer_i64("mid", {1}, {8});
  mb.initializer_i64("end", {1}, {16});
  mb.initializer_i64("axis", {1}, {1});
  mb.node("Slice", {"shuffled", "starts", "mid", "axis"}, {"lo"});
  mb.node("Slice", {"shuffled", "mid", "end", "axis"}, {"hi"});
  mb.node("Conv", {"hi", "wc"}, {"conv"});
  mb.node("Flatten", {"shuffled"}, {"flat"});
  const Conv2d p{2, 3, 5, 4, 8, 1, 1};
  const auto a = naive_conv2d(x, wa, {}, p), b = naive_conv2d(x, wb, {}, p);
  std::vector<float> cat;
  for (int n = 0; n < 2; ++n) {
    cat.insert(cat.end(), a.begin() + n * 160, a.begin() + (n + 1) * 160);
    cat.insert(cat.end(), b.begin() + n * 160, b.begin() + (n + 1) * 160);
  }
  const auto shuffled = naive_transpose(cat, {2, 2, 8, 5, 4}, {0, 2, 1, 3, 4});
  std::vector<float> lo, hi;
  for (int n = 0; n < 2; ++n) {
    lo.insert(lo.end(), shuffled.begin() + n * 320, shuffled.begin() + n * 320 + 160);
    hi.insert(hi.end(), shuffled.begin() + n * 320 + 160, shuffled.begin() + (n + 1) * 320);
  }
  const auto out = run_model(mb, "shuffle.onnx", {make_f32(xd, x)});
  EXPECT_TRUE(all_close(values_of(out[0]), lo));
  EXPECT_TRUE(all_close(values_of(out[1]), naive_conv2d(hi, wc, {}, Conv2d{2, 8, 5, 4, 8, 1, 1})));
  EXPECT_EQ(out[2].shape(), (std::vector<std::int64_t>{2, 320}));
  EXPECT_TRUE(all_close(values_of(out[2]), shuffled));
}

TEST(RuntimeSlice, OfAnActivationMatchesNaive) {
  // x.chunk(2, dim=1) of a convolution's output, a strided spatial slice and a
  // negative step, with the bounds computed from Shape as ShuffleNet's export does.
  const std::vector<std::int64_t> xd{2, 3, 6, 7};
  const auto x = random_values(static_cast<std::size_t>(numel(xd)), 11);
  const auto w = random_values(8 * 3, 12);
  ModelBuilder mb;
  mb.input("x", {-1, 3, 6, 7}).output("lo").output("hi").output("sp").output("rev");
  mb.initializer("w", {8, 3, 1, 1}, w);
  mb.node("Conv", {"x", "w"}, {"c"});
  mb.node("Shape", {"c"}, {"shape"});
  mb.initializer_i64("one", {}, {1});
  mb.node("Gather", {"shape", "one"}, {"channels"});
  mb.initializer_i64("two", {}, {2});
  mb.node("Div", {"channels", "two"}, {"half"});
  mb.initializer_i64("axes0", {1}, {0});
  mb.node("Unsqueeze", {"half", "axes0"}, {"half1"});
  mb.initializer_i64("zero1", {1}, {0});
  mb.initializer_i64("axis1", {1}, {1});
  mb.initializer_i64("big", {1}, {1LL << 40});
  mb.node("Slice", {"c", "zero1", "half1", "axis1"}, {"lo"});
  mb.node("Slice", {"c", "half1", "big", "axis1"}, {"hi"});
  mb.initializer_i64("sp_starts", {2}, {1, 0});
  mb.initializer_i64("sp_ends", {2}, {6, -1});
  mb.initializer_i64("sp_axes", {2}, {2, 3});
  mb.initializer_i64("sp_steps", {2}, {2, 3});
  mb.node("Slice", {"c", "sp_starts", "sp_ends", "sp_axes", "sp_steps"}, {"sp"});
  mb.initializer_i64("rev_starts", {1}, {-1});
  mb.initializer_i64("rev_ends", {1}, {-(1LL << 40)});
  mb.initializer_i64("rev_axes", {1}, {-1});
  mb.initializer_i64("rev_steps", {1}, {-2});
  mb.node("Slice", {"c", "rev_starts", "rev_ends", "rev_axes", "rev_steps"}, {"rev"});
  const auto c = naive_conv2d(x, w, {}, Conv2d{2, 3, 6, 7, 8, 1, 1});
  auto pick = [&](const std::vector<std::int64_t>& out_dims, auto index) {
    std::vector<float> v;
    for (std::int64_t n = 0; n < out_dims[0]; ++n)
      for (std::int64_t ch = 0; ch < out_dims[1]; ++ch)
        for (std::int64_t h = 0; h < out_dims[2]; ++h)
          for (std::int64_t ww = 0; ww < out_dims[3]; ++ww)
            v.push_back(c[static_cast<std::size_t>(index(n, ch, h, ww))]);
    return v;
  };
  auto at = [](std::int64_t n, std::int64_t ch, std::int64_t h, std::int64_t ww) {
    return ((n * 8 + ch) * 6 + h) * 7 + ww;
  };
  for (bool optimize : {true, false}) {
    SCOPED_TRACE(optimize ? "optimized" : "unoptimized");
    const auto out = run_model(mb, "slice.onnx", {make_f32(xd, x)}, optimize ? runtime::Options{} : unoptimized());
    EXPECT_EQ(out[0].shape(), (std::vector<std::int64_t>{2, 4, 6, 7}));
    EXPECT_TRUE(all_close(values_of(out[0]), pick({2, 4, 6, 7}, at)));
    EXPECT_TRUE(all_close(values_of(out[1]),
                          pick({2, 4, 6, 7}, [&](auto n, auto ch, auto h, auto ww) { return at(n, ch + 4, h, ww); })));
    EXPECT_EQ(out[2].shape(), (std::vector<std::int64_t>{2, 8, 3, 2}));
    EXPECT_TRUE(all_close(values_of(out[2]), pick({2, 8, 3, 2}, [&](auto n, auto ch, auto h, auto ww) {
                            return at(n, ch, 1 + 2 * h, 3 * ww);
                          })));
    EXPECT_EQ(out[3].shape(), (std::vector<std::int64_t>{2, 8, 6, 4}));
    EXPECT_TRUE(all_close(values_of(out[3]), pick({2, 8, 6, 4}, [&](auto n, auto ch, auto h, auto ww) {
                            return at(n, ch, h, 6 - 2 * ww);
                          })));
  }
}

TEST(RuntimeReduceMean, AxesKeepdimsAndOpset18InputMatchNaive) {
  const std::vector<std::int64_t> xd{2, 3, 4, 5};
  const auto x = random_values(static_cast<std::size_t>(numel(xd)), 21);
  struct Case {
    int opset;
    std::vector<std::int64_t> axes;  // as written in the model
    bool keepdims;
    std::vector<std::int64_t> reduced;  // normalised
  };
  const std::vector<Case> cases{
      {17, {2, 3}, false, {2, 3}}, {17, {2, 3}, true, {2, 3}},    {17, {-1}, false, {3}},
      {13, {1}, true, {1}},        {17, {}, false, {0, 1, 2, 3}}, {17, {0, 2}, true, {0, 2}},
      {18, {3, 1}, false, {1, 3}}, {18, {}, true, {0, 1, 2, 3}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("opset " + std::to_string(c.opset) + " axes " + dims_str(c.axes) + " keepdims " +
                 std::to_string(c.keepdims));
    ModelBuilder mb(c.opset);
    mb.input("x", xd).output("y");
    std::vector<std::string> inputs{"x"};
    if (c.opset >= 18 && !c.axes.empty()) {
      mb.initializer_i64("axes", {static_cast<std::int64_t>(c.axes.size())}, c.axes);
      inputs.emplace_back("axes");
    }
    auto& n = mb.node("ReduceMean", inputs, {"y"});
    if (c.opset < 18 && !c.axes.empty()) set_ints(n, "axes", c.axes);
    set_int(n, "keepdims", c.keepdims ? 1 : 0);
    const auto out = run_model(mb, "reduce_mean.onnx", {make_f32(xd, x)});
    std::vector<std::int64_t> want_dims;
    for (std::size_t i = 0; i < xd.size(); ++i) {
      const bool reduced =
          std::find(c.reduced.begin(), c.reduced.end(), static_cast<std::int64_t>(i)) != c.reduced.end();
      if (!reduced) want_dims.push_back(xd[i]);
      if (reduced && c.keepdims) want_dims.push_back(1);
    }
    EXPECT_EQ(out[0].shape(), want_dims);
    EXPECT_TRUE(all_close(values_of(out[0]), naive_reduce_mean(x, xd, c.reduced), 1e-6, 1e-5));
  }
}

TEST(RuntimeReduceMean, NoopWithEmptyAxesPassesTheInputThrough) {
  const std::vector<std::int64_t> xd{2, 3, 4};
  const auto x = random_values(24, 22);
  ModelBuilder mb(18);
  mb.input("x", xd).output("y");
  mb.node("Relu", {"x"}, {"r"});
  set_int(mb.node("ReduceMean", {"r"}, {"y"}), "noop_with_empty_axes", 1);
  const auto out = run_model(mb, "reduce_noop.onnx", {make_f32(xd, x)});
  EXPECT_EQ(out[0].shape(), xd);
  EXPECT_TRUE(all_close(values_of(out[0]), map_values(x, naive_relu), 0, 0));
}

TEST(RuntimeLayerNorm, AxesBiasAndBroadcastScaleMatchNaive) {
  const std::vector<std::int64_t> xd{2, 3, 4, 6};
  const auto x = random_values(static_cast<std::size_t>(numel(xd)), 31, -3.0f, 5.0f);
  struct Case {
    std::int64_t axis;
    std::vector<std::int64_t> scale_dims;
    bool bias;
    float epsilon;
  };
  const std::vector<Case> cases{
      {-1, {6}, true, 1e-6f},      {-1, {6}, false, 1e-5f}, {3, {6}, true, 0.5f},
      {1, {3, 4, 6}, true, 1e-5f}, {2, {6}, false, 1e-3f},  {-2, {4, 1}, true, 1e-5f},
  };
  std::uint32_t seed = 40;
  for (const auto& c : cases) {
    SCOPED_TRACE("axis " + std::to_string(c.axis) + " scale " + dims_str(c.scale_dims) + (c.bias ? " bias" : ""));
    const auto axis = static_cast<std::size_t>(c.axis < 0 ? c.axis + 4 : c.axis);
    std::int64_t outer = 1, inner = 1;
    for (std::size_t i = 0; i < 4; ++i) (i < axis ? outer : inner) *= xd[i];
    const auto scale = random_values(static_cast<std::size_t>(numel(c.scale_dims)), seed++, 0.5f, 1.5f);
    const auto bias = random_values(static_cast<std::size_t>(numel(c.scale_dims)), seed++);
    ModelBuilder mb;
    mb.input("x", xd).output("y");
    mb.initializer("scale", c.scale_dims, scale);
    std::vector<std::string> inputs{"x", "scale"};
    if (c.bias) {
      mb.initializer("bias", c.scale_dims, bias);
      inputs.emplace_back("bias");
    }
    auto& n = mb.node("LayerNormalization", inputs, {"y"});
    set_int(n, "axis", c.axis);
    set_float(n, "epsilon", c.epsilon);
    // Scale and B broadcast to the normalised shape xd[axis:].
    const std::vector<std::int64_t> normalized(xd.begin() + static_cast<std::ptrdiff_t>(axis), xd.end());
    std::vector<std::int64_t> out_dims;
    const auto full_scale = naive_broadcast(std::vector<float>(static_cast<std::size_t>(inner), 0.0f), normalized,
                                            scale, c.scale_dims, out_dims, [](float, float s) { return s; });
    const auto full_bias = naive_broadcast(std::vector<float>(static_cast<std::size_t>(inner), 0.0f), normalized, bias,
                                           c.scale_dims, out_dims, [](float, float s) { return s; });
    const auto out = run_model(mb, "layer_norm.onnx", {make_f32(xd, x)});
    EXPECT_EQ(out[0].shape(), xd);
    EXPECT_TRUE(
        all_close(values_of(out[0]),
                  naive_layer_norm(x, outer, inner, full_scale, c.bias ? full_bias : std::vector<float>{}, c.epsilon),
                  1e-5, 1e-5));
  }
}

TEST(RuntimeErf, MatchesStdErf) {
  const std::vector<std::int64_t> xd{3, 5, 7};
  const auto x = random_values(105, 51, -4.0f, 4.0f);
  ModelBuilder mb;
  mb.input("x", xd).output("y");
  mb.node("Erf", {"x"}, {"y"});
  const auto out = run_model(mb, "erf.onnx", {make_f32(xd, x)});
  EXPECT_TRUE(all_close(values_of(out[0]), map_values(x, naive_erf), 1e-6, 1e-6));
}

// [N, 4, 4, 8] x [8, 16] + bias, GELU as torch.onnx.export writes it (form 0:
// Div by sqrt(2), x * (1 + erf) then * 0.5) or as other exporters do (form 1:
// Mul by 1/sqrt(2), 0.5 * x first, the constants on the left), then a second
// MatMul.
ModelBuilder gelu_model(int form, const std::vector<float>& w1, const std::vector<float>& b1,
                        const std::vector<float>& w2) {
  ModelBuilder mb;
  mb.input("x", {-1, 4, 4, 8}).output("y");
  mb.initializer("w1", {8, 16}, w1);
  mb.initializer("b1", {16}, b1);
  mb.initializer("w2", {16, 8}, w2);
  mb.initializer("one", {}, {1.0f});
  mb.initializer("half", {}, {0.5f});
  mb.node("MatMul", {"x", "w1"}, {"mm"});
  mb.node("Add", {"b1", "mm"}, {"h"});
  if (form == 0) {
    mb.initializer("sqrt2", {}, {1.4142135f});
    mb.node("Div", {"h", "sqrt2"}, {"d"});
    mb.node("Erf", {"d"}, {"e"});
    mb.node("Add", {"e", "one"}, {"e1"});
    mb.node("Mul", {"h", "e1"}, {"m"});
    mb.node("Mul", {"m", "half"}, {"g"});
  } else {
    mb.initializer("rsqrt2", {1}, {0.70710677f});
    mb.node("Mul", {"rsqrt2", "h"}, {"d"});
    mb.node("Erf", {"d"}, {"e"});
    mb.node("Add", {"one", "e"}, {"e1"});
    mb.node("Mul", {"half", "h"}, {"m"});
    mb.node("Mul", {"e1", "m"}, {"g"});
  }
  mb.node("MatMul", {"g", "w2"}, {"y"});
  return mb;
}

TEST(RuntimeGelu, FusedIntoTheMatMulEqualsTheUnfusedGraphAndNaive) {
  const auto w1 = random_values(8 * 16, 61), b1 = random_values(16, 62), w2 = random_values(16 * 8, 63);
  const std::vector<std::int64_t> xd{3, 4, 4, 8};
  const auto x = random_values(static_cast<std::size_t>(numel(xd)), 64, -2.0f, 2.0f);
  // Naive: rows of 8 through Linear(8, 16), GELU, MatMul(16, 8).
  auto h = naive_matmul2d(x, w1, 48, 8, 16);
  for (std::size_t i = 0; i < h.size(); ++i) h[i] += b1[i % 16];
  const auto want = naive_matmul2d(map_values(h, naive_gelu), w2, 48, 16, 8);
  for (int form : {0, 1}) {
    SCOPED_TRACE("form " + std::to_string(form));
    const auto mb = gelu_model(form, w1, b1, w2);
    auto loaded = runtime::load_onnx_file(mb.save("gelu.onnx"));
    runtime::infer_shapes(loaded.graph);
    runtime::run_passes(loaded.graph, {});
    // One MatMul with the bias and the GELU fused, and the second MatMul.
    EXPECT_EQ(loaded.graph.count(runtime::OpType::MatMul), 2);
    EXPECT_EQ(static_cast<int>(loaded.graph.order().size()), 2);
    const auto fused = run_model(mb, "gelu.onnx", {make_f32(xd, x)});
    const auto plain = run_model(mb, "gelu.onnx", {make_f32(xd, x)}, unoptimized());
    EXPECT_TRUE(all_close(values_of(fused[0]), want, 1e-5, 1e-4));
    EXPECT_TRUE(all_close(values_of(plain[0]), want, 1e-5, 1e-4));
    EXPECT_TRUE(all_close(values_of(fused[0]), values_of(plain[0]), 1e-5, 1e-4));
  }
}

TEST(RuntimeGelu, LookAlikesAreNotFused) {
  // A different constant (sqrt(3)), and an intermediate that is also a graph output.
  for (int variant : {0, 1}) {
    SCOPED_TRACE("variant " + std::to_string(variant));
    ModelBuilder mb;
    mb.input("x", {2, 8}).output("y");
    mb.initializer("c", {}, {variant == 0 ? 1.7320508f : 1.4142135f});
    mb.initializer("one", {}, {1.0f});
    mb.initializer("half", {}, {0.5f});
    mb.node("Div", {"x", "c"}, {"d"});
    mb.node("Erf", {"d"}, {"e"});
    mb.node("Add", {"e", "one"}, {"e1"});
    mb.node("Mul", {"x", "e1"}, {"m"});
    mb.node("Mul", {"m", "half"}, {"y"});
    if (variant == 1) mb.output("e");
    auto loaded = runtime::load_onnx_file(mb.save("gelu_like.onnx"));
    runtime::infer_shapes(loaded.graph);
    runtime::run_passes(loaded.graph, {});
    EXPECT_EQ(loaded.graph.count(runtime::OpType::Gelu), 0);
    EXPECT_EQ(loaded.graph.count(runtime::OpType::Erf), 1);
    const auto x = random_values(16, 70, -2.0f, 2.0f);
    const auto out = run_model(mb, "gelu_like.onnx", {make_f32({2, 8}, x)});
    const double c = variant == 0 ? 1.7320508 : 1.4142135;
    const auto want = map_values(x, [&](float v) { return static_cast<float>(v * (1.0 + std::erf(v / c)) * 0.5); });
    EXPECT_TRUE(all_close(values_of(out[0]), want, 1e-6, 1e-5));
  }
}

}  // namespace
}  // namespace pt2onnx::testing
