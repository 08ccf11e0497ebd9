// Mod, Pow, Not (ops/math.h) and Tanh against their ONNX definitions: Mod and
// Pow as kernels on computed float32 tensors (numpy broadcasting both ways, a
// scalar, an empty result) and evaluated at load on int64 constants (Mod's
// two sign rules, exact integer powers), Not on a Bool constant feeding Where,
// Tanh alone and after a MatMul; the attribute values and operands the engine
// refuses; each with the passes on and off.
#include <cmath>
#include <string>

#include "pt2onnx/error.h"
#include "runtime/naive_ops.h"
#include "runtime/test_model.h"

namespace pt2onnx::testing {
namespace {

struct BinaryCase {
  std::vector<std::int64_t> a, b, out;
};

const std::vector<BinaryCase>& binary_cases() {
  static const std::vector<BinaryCase> kCases{
      {{2, 3, 4}, {2, 3, 4}, {2, 3, 4}},
      {{2, 3, 4}, {3, 1}, {2, 3, 4}},  // the second operand broadcast, its last axis too
      {{4}, {2, 3, 1}, {2, 3, 4}},     // both broadcast
      {{2, 3}, {}, {2, 3}},            // a scalar
      {{3}, {0, 3}, {0, 3}},           // empty (a constant operand: graph inputs have positive sizes)
  };
  return kCases;
}

// Runs op(a, b) with both operands computed, or b a constant.
std::vector<Tensor> run_binary(const std::string& op, const BinaryCase& k, const std::vector<float>& a,
                               const std::vector<float>& b, bool b_constant, bool optimize, int fmod = -1) {
  ModelBuilder mb;
  mb.input("a", k.a).output("y");
  if (b_constant || b.empty()) {
    mb.initializer("b", k.b, b);
  } else {
    mb.input("b", k.b);
  }
  auto& n = mb.node(op, {"a", "b"}, {"y"});
  if (fmod >= 0) set_int(n, "fmod", fmod);
  std::vector<Tensor> inputs{make_f32(k.a, a)};
  if (!b_constant && !b.empty()) inputs.push_back(make_f32(k.b, b));
  return run_model(mb, op + ".onnx", inputs, with_passes(optimize));
}

TEST(RuntimeMathOps, ModOfFloat32TensorsIsCFmod) {
  for (const auto& k : binary_cases()) {
    for (bool b_constant : {false, true}) {
      for (bool optimize : {true, false}) {
        SCOPED_TRACE(dims_str(k.a) + " % " + dims_str(k.b) + (b_constant ? " constant" : "") +
                     (optimize ? "" : " unoptimized"));
        const auto a = random_values(static_cast<std::size_t>(numel(k.a)), 3, -10.0f, 10.0f);
        auto b = random_values(static_cast<std::size_t>(numel(k.b)), 4, 0.5f, 3.0f);
        for (std::size_t i = 0; i < b.size(); i += 2) b[i] = -b[i];  // divisors of both signs
        const auto out = run_binary("Mod", k, a, b, b_constant, optimize, 1);
        ASSERT_EQ(out[0].shape(), k.out);
        std::vector<float> want(static_cast<std::size_t>(numel(k.out)));
        for (std::size_t i = 0; i < want.size(); ++i) {
          const auto x = a[static_cast<std::size_t>(naive_broadcast_index(static_cast<std::int64_t>(i), k.a, k.out))];
          const auto d = b[static_cast<std::size_t>(naive_broadcast_index(static_cast<std::int64_t>(i), k.b, k.out))];
          // x - trunc(x / d) * d, in double: the sign of the dividend.
          const double q = std::trunc(static_cast<double>(x) / d);
          want[i] = static_cast<float>(x - q * d);
        }
        EXPECT_TRUE(all_close(values_of(out[0]), want, 1e-5, 1e-5));
      }
    }
  }
}

TEST(RuntimeMathOps, PowOfFloat32TensorsMatchesItsDefinition) {
  for (const auto& k : binary_cases()) {
    for (bool b_constant : {false, true}) {
      for (bool optimize : {true, false}) {
        SCOPED_TRACE(dims_str(k.a) + " ^ " + dims_str(k.b) + (b_constant ? " constant" : "") +
                     (optimize ? "" : " unoptimized"));
        const auto a = random_values(static_cast<std::size_t>(numel(k.a)), 5, 0.1f, 3.0f);
        const auto b = random_values(static_cast<std::size_t>(numel(k.b)), 6, -2.0f, 2.0f);
        const auto out = run_binary("Pow", k, a, b, b_constant, optimize);
        ASSERT_EQ(out[0].shape(), k.out);
        std::vector<float> want(static_cast<std::size_t>(numel(k.out)));
        for (std::size_t i = 0; i < want.size(); ++i) {
          const auto x = a[static_cast<std::size_t>(naive_broadcast_index(static_cast<std::int64_t>(i), k.a, k.out))];
          const auto e = b[static_cast<std::size_t>(naive_broadcast_index(static_cast<std::int64_t>(i), k.b, k.out))];
          want[i] = static_cast<float>(std::exp(e * std::log(static_cast<double>(x))));
        }
        EXPECT_TRUE(all_close(values_of(out[0]), want, 1e-5, 1e-5));
      }
    }
  }
}

// x ** 2 with the exponent an int64 constant (torch.onnx.export's `x.pow(2)` on
// an integer exponent), on negative bases too.
TEST(RuntimeMathOps, PowWithAnInt64ConstantExponentSquares) {
  for (bool optimize : {true, false}) {
    ModelBuilder mb;
    mb.input("x", {2, 5}).output("y");
    mb.initializer_i64("two", {}, {2});
    mb.node("Pow", {"x", "two"}, {"y"});
    const auto x = random_values(10, 9, -3.0f, 3.0f);
    const auto out = run_model(mb, "pow_int.onnx", {make_f32({2, 5}, x)}, with_passes(optimize));
    std::vector<float> want(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) want[i] = x[i] * x[i];
    EXPECT_TRUE(all_close(values_of(out[0]), want, 1e-6, 1e-6));
  }
}

// int64 op of two constants, evaluated at load, cast to float32 and added to x.
std::vector<float> int64_result(const std::string& op, const std::vector<std::int64_t>& a,
                                const std::vector<std::int64_t>& a_dims, const std::vector<std::int64_t>& b,
                                const std::vector<std::int64_t>& b_dims, const std::vector<std::int64_t>& out_dims,
                                int fmod, bool optimize) {
  ModelBuilder mb;
  mb.input("x", out_dims).output("y");
  mb.initializer_i64("a", a_dims, a);
  mb.initializer_i64("b", b_dims, b);
  auto& n = mb.node(op, {"a", "b"}, {"r"});
  if (fmod >= 0) set_int(n, "fmod", fmod);
  set_int(mb.node("Cast", {"r"}, {"rf"}), "to", onnx::TensorProto::FLOAT);
  mb.node("Add", {"x", "rf"}, {"y"});
  const auto zeros = std::vector<float>(static_cast<std::size_t>(numel(out_dims)), 0.0f);
  const auto out = run_model(mb, op + "_int64.onnx", {make_f32(out_dims, zeros)}, with_passes(optimize));
  EXPECT_EQ(out[0].shape(), out_dims);
  return values_of(out[0]);
}

TEST(RuntimeMathOps, ModOfInt64ConstantsFollowsTheChosenSign) {
  // Python's % (fmod=0: the divisor's sign) and C's fmod (fmod=1: the dividend's).
  const std::vector<std::int64_t> a{7, -7, 7, -7, 0, 5, 9, -9};
  const std::vector<std::int64_t> b{3, 3, -3, -3, 2, -5, 4, 4};
  for (bool optimize : {true, false}) {
    EXPECT_TRUE(all_close(int64_result("Mod", a, {8}, b, {8}, {8}, 0, optimize), {1, 2, -2, -1, 0, 0, 1, 3}));
    EXPECT_TRUE(all_close(int64_result("Mod", a, {8}, b, {8}, {8}, 1, optimize), {1, -1, 1, -1, 0, 0, 1, -1}));
    // Broadcast: [2, 1] % [3] (Swin's window index of a shifted coordinate).
    EXPECT_TRUE(
        all_close(int64_result("Mod", {-1, 8}, {2, 1}, {7, 4, 3}, {3}, {2, 3}, 0, optimize), {6, 3, 2, 1, 0, 2}));
  }
}

TEST(RuntimeMathOps, PowOfInt64ConstantsIsExact) {
  for (bool optimize : {true, false}) {
    // 3^39 > 2^53: exact only in integer arithmetic; as float32 it rounds the same way either way.
    EXPECT_TRUE(all_close(int64_result("Pow", {2, 3, -2, 5, 7}, {5}, {10, 0, 3, 1, 2}, {5}, {5}, -1, optimize),
                          {1024, 1, -8, 5, 49}));
    EXPECT_TRUE(
        all_close(int64_result("Pow", {2, 3}, {2, 1}, {1, 2, 3}, {3}, {2, 3}, -1, optimize), {2, 4, 8, 3, 9, 27}));
  }
}

TEST(RuntimeMathOps, ModRefusesWhatTheSpecForbids) {
  auto mod_model = [](bool floating, int fmod, const std::string& file) {
    ModelBuilder mb;
    mb.input("x", {3}).output("y");
    if (floating) {
      mb.initializer("d", {3}, {1.0f, 2.0f, 3.0f});
      set_int(mb.node("Mod", {"x", "d"}, {"y"}), "fmod", fmod);
    } else {
      mb.initializer_i64("a", {3}, {4, 5, 6});
      mb.initializer_i64("d", {3}, {1, 0, 3});
      set_int(mb.node("Mod", {"a", "d"}, {"r"}), "fmod", fmod);
      set_int(mb.node("Cast", {"r"}, {"rf"}), "to", onnx::TensorProto::FLOAT);
      mb.node("Add", {"x", "rf"}, {"y"});
    }
    return mb.save(file);
  };
  expect_error_kind([&] { runtime::Model::load(mod_model(true, 0, "mod_float_fmod0.onnx")); }, ErrorKind::BadInput,
                    "fmod=1");
  expect_error_kind([&] { runtime::Model::load(mod_model(true, 2, "mod_fmod2.onnx")); }, ErrorKind::BadInput,
                    "'fmod' is 2");
  expect_error_kind([&] { runtime::Model::load(mod_model(false, 0, "mod_by_zero.onnx")); }, ErrorKind::BadInput,
                    "by zero");
}

TEST(RuntimeMathOps, NotOfABoolConstantPicksTheOtherOperand) {
  for (bool optimize : {true, false}) {
    ModelBuilder mb;
    mb.input("x", {2, 3}).output("y");
    auto* t = mb.proto.mutable_graph()->add_initializer();
    t->set_name("c");
    t->set_data_type(onnx::TensorProto::BOOL);
    t->add_dims(3);
    t->set_raw_data(std::string("\1\0\1", 3));
    mb.initializer("other", {1}, {-7.0f});
    mb.node("Not", {"c"}, {"nc"});
    mb.node("Where", {"nc", "x", "other"}, {"y"});
    const auto x = random_values(6, 13);
    const auto out = run_model(mb, "not.onnx", {make_f32({2, 3}, x)}, with_passes(optimize));
    EXPECT_TRUE(all_close(values_of(out[0]), {-7.0f, x[1], -7.0f, -7.0f, x[4], -7.0f}));
  }
}

TEST(RuntimeMathOps, TanhAloneAndAfterAMatMul) {
  const auto w = random_values(12, 17);
  for (bool optimize : {true, false}) {
    SCOPED_TRACE(optimize ? "optimized" : "unoptimized");
    ModelBuilder mb;
    mb.input("x", {2, 3}).output("t").output("y");
    mb.initializer("w", {3, 4}, w);
    mb.node("Tanh", {"x"}, {"t"});
    mb.node("MatMul", {"x", "w"}, {"m"});
    mb.node("Tanh", {"m"}, {"y"});
    const auto x = random_values(6, 18, -3.0f, 3.0f);
    const auto out = run_model(mb, "tanh.onnx", {make_f32({2, 3}, x)}, with_passes(optimize));
    std::vector<float> want_t(6);
    for (std::size_t i = 0; i < 6; ++i) want_t[i] = static_cast<float>(std::tanh(static_cast<double>(x[i])));
    auto want_y = naive_matmul2d(x, w, 2, 3, 4);
    for (auto& v : want_y) v = static_cast<float>(std::tanh(static_cast<double>(v)));
    EXPECT_TRUE(all_close(values_of(out[0]), want_t, 1e-5, 1e-5));
    EXPECT_TRUE(all_close(values_of(out[1]), want_y, 1e-5, 1e-5));
  }
}

}  // namespace
}  // namespace pt2onnx::testing
