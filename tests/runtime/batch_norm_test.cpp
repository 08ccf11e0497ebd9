// Inference BatchNormalization on its own (no Conv before it to fold into)
// and folded into a Conv, against the naive formula.
#include <cmath>
#include <string>

#include "runtime/naive_ops.h"
#include "runtime/test_model.h"

namespace pt2onnx::testing {
namespace {

std::vector<float> naive_batch_norm(const std::vector<float>& x, const std::vector<std::int64_t>& d,
                                    const std::vector<float>& scale, const std::vector<float>& bias,
                                    const std::vector<float>& mean, const std::vector<float>& var, float eps) {
  std::int64_t inner = 1;
  for (std::size_t i = 2; i < d.size(); ++i) inner *= d[i];
  std::vector<float> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto c = static_cast<std::size_t>((static_cast<std::int64_t>(i) / inner) % d[1]);
    y[i] = static_cast<float>((x[i] - mean[c]) / std::sqrt(static_cast<double>(var[c]) + eps) * scale[c] + bias[c]);
  }
  return y;
}

TEST(RuntimeBatchNorm, StandaloneMatchesNaive) {
  for (const auto& d : std::vector<std::vector<std::int64_t>>{{2, 5, 7, 3}, {3, 6}, {1, 32, 112, 112}, {2, 4, 5}}) {
    SCOPED_TRACE("BatchNormalization x " + dims_str(d));
    const auto c = d[1];
    const auto x = random_values(static_cast<std::size_t>(numel(d)), 1, -3.0f, 3.0f);
    const auto s = random_values(static_cast<std::size_t>(c), 2, 0.5f, 1.5f),
               b = random_values(static_cast<std::size_t>(c), 3);
    const auto m = random_values(static_cast<std::size_t>(c), 4),
               v = random_values(static_cast<std::size_t>(c), 5, 0.1f, 2.0f);
    ModelBuilder mb;
    mb.input("x", d).output("y");
    mb.initializer("s", {c}, s);
    mb.initializer("b", {c}, b);
    mb.initializer("m", {c}, m);
    mb.initializer("v", {c}, v);
    set_float(mb.node("BatchNormalization", {"x", "s", "b", "m", "v"}, {"y"}), "epsilon", 1e-3f);
    const auto out = run_model(mb, "bn.onnx", {make_f32(d, x)});
    EXPECT_TRUE(all_close(values_of(out[0]), naive_batch_norm(x, d, s, b, m, v, 1e-3f)));
  }
}

TEST(RuntimeBatchNorm, FoldedIntoConvMatchesNaive) {
  const Conv2d p{2, 4, 9, 9, 6, 3, 3, 2, 2, 2, 1, 1, 1, 1, 1, 1};
  const auto x = random_values(2 * 4 * 81, 6);
  const auto w = random_values(6 * 2 * 9, 7), cb = random_values(6, 8);
  const auto s = random_values(6, 9, 0.5f, 1.5f), b = random_values(6, 10), m = random_values(6, 11);
  const auto v = random_values(6, 12, 0.1f, 2.0f);
  ModelBuilder mb;
  mb.input("x", {-1, 4, 9, 9}).output("y");
  mb.initializer("w", {6, 2, 3, 3}, w);
  mb.initializer("cb", {6}, cb);
  mb.initializer("s", {6}, s);
  mb.initializer("b", {6}, b);
  mb.initializer("m", {6}, m);
  mb.initializer("v", {6}, v);
  auto& conv = mb.node("Conv", {"x", "w", "cb"}, {"c"});
  set_int(conv, "group", 2);
  set_ints(conv, "strides", {2, 2});
  set_ints(conv, "pads", {1, 1, 1, 1});
  mb.node("BatchNormalization", {"c", "s", "b", "m", "v"}, {"y"});
  const auto want = naive_batch_norm(naive_conv2d(x, w, cb, p), {2, 6, p.oh(), p.ow()}, s, b, m, v, 1e-5f);
  for (bool optimize : {true, false}) {
    SCOPED_TRACE(optimize ? "folded" : "standalone");
    runtime::Options o;
    o.optimize = optimize;
    EXPECT_TRUE(all_close(values_of(run_model(mb, "conv_bn.onnx", {make_f32({2, 4, 9, 9}, x)}, o)[0]), want));
  }
}

// DenseNet's BatchNormalization, ReLU before each convolution (over a
// concatenation, so nothing to fold into): one step, the ReLU in the
// normalisation's pass. Sigmoid after it still runs, as its own step.
TEST(RuntimeBatchNorm, ReluAfterItRunsInItsPass) {
  const std::vector<std::int64_t> d{2, 24, 9, 7};
  const auto x = random_values(static_cast<std::size_t>(numel(d)), 21, -3.0f, 3.0f);
  const auto s = random_values(24, 22, 0.5f, 1.5f), b = random_values(24, 23), m = random_values(24, 24);
  const auto v = random_values(24, 25, 0.1f, 2.0f);
  const auto norm = naive_batch_norm(x, d, s, b, m, v, 1e-5f);
  for (const std::string act : {"Relu", "Sigmoid"}) {
    SCOPED_TRACE(act);
    ModelBuilder mb;
    mb.input("x", d).output("y");
    mb.initializer("s", {24}, s);
    mb.initializer("b", {24}, b);
    mb.initializer("m", {24}, m);
    mb.initializer("v", {24}, v);
    mb.node("BatchNormalization", {"x", "s", "b", "m", "v"}, {"n"});
    mb.node(act, {"n"}, {"y"});
    const auto file = mb.save("bn_" + act + ".onnx");
    const auto want = map_values(norm, act == "Relu" ? naive_relu : naive_sigmoid);
    EXPECT_TRUE(all_close(values_of(run_model(mb, "bn_" + act + ".onnx", {make_f32(d, x)})[0]), want));
    EXPECT_EQ(compile_file(file, {d}).count(dnnl::primitive::kind::eltwise), act == "Relu" ? 0 : 1);
  }
}

}  // namespace
}  // namespace pt2onnx::testing
