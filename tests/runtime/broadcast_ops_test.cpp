// ConstantOfShape, Equal, Expand and Where (ops/broadcast.h) against naive
// loops over ONNX's numpy broadcasting: Expand of a computed tensor (rank
// growing, axes of 1 both ways, a shape shorter than the input, an empty
// result, a scalar), Where on computed float32 data with a constant condition
// (each operand broadcast, an empty result), Equal and ConstantOfShape on
// constants (int64, float32, a zero size, an empty shape), and the class-token
// chain torch.onnx.export writes for `cls.expand(n, -1, -1)` at several batch
// sizes; each with the passes on and off.
#include <string>

#include "pt2onnx/error.h"
#include "runtime/naive_ops.h"
#include "runtime/test_model.h"

namespace pt2onnx::testing {
namespace {

std::vector<float> naive_expand(const std::vector<float>& x, const std::vector<std::int64_t>& in,
                                const std::vector<std::int64_t>& out) {
  std::vector<float> y(static_cast<std::size_t>(numel(out)));
  for (std::size_t i = 0; i < y.size(); ++i)
    y[i] = x[static_cast<std::size_t>(naive_broadcast_index(static_cast<std::int64_t>(i), in, out))];
  return y;
}

onnx::TensorProto& bool_initializer(ModelBuilder& mb, const std::string& name, const std::vector<std::int64_t>& dims,
                                    const std::vector<bool>& values) {
  auto* t = mb.proto.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::BOOL);
  for (auto d : dims) t->add_dims(d);
  std::string raw;
  for (bool v : values) raw.push_back(v ? '\1' : '\0');
  t->set_raw_data(raw);
  return *t;
}

void set_value(onnx::NodeProto& n, int elem_type, const std::string& raw) {
  auto* a = n.add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  auto* t = a->mutable_t();
  t->set_data_type(elem_type);
  t->add_dims(1);
  t->set_raw_data(raw);
}

template <typename T>
std::string raw_of(T v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof(T));
}

TEST(RuntimeBroadcastOps, ExpandOfAComputedTensorMatchesNaive) {
  struct Case {
    std::vector<std::int64_t> in, shape, out;
  };
  const std::vector<Case> cases{
      {{3, 1}, {2, 1, 4}, {2, 3, 4}},  // rank grows; the input's 1 and the shape's 1 both broadcast
      {{1, 3}, {3}, {1, 3}},           // a shorter shape
      {{2, 1, 4}, {1, 1}, {2, 1, 4}},  // ones keep the input's sizes
      {{4}, {2, 3, 1}, {2, 3, 4}},    {{5, 1}, {5, 6}, {5, 6}},  // the last axis broadcast (a fill per row)
      {{1, 3}, {0, 3}, {0, 3}},                                  // empty
      {{}, {2, 2}, {2, 2}},                                      // a scalar
  };
  for (const auto& k : cases) {
    for (bool optimize : {true, false}) {
      SCOPED_TRACE(dims_str(k.in) + " to " + dims_str(k.shape) + (optimize ? "" : " unoptimized"));
      ModelBuilder mb;
      mb.input("x", k.in).output("y");
      mb.initializer_i64("shape", {static_cast<std::int64_t>(k.shape.size())}, k.shape);
      mb.node("Expand", {"x", "shape"}, {"y"});
      const auto x = random_values(static_cast<std::size_t>(numel(k.in)), 7);
      const auto out = run_model(mb, "expand.onnx", {make_f32(k.in, x)}, with_passes(optimize));
      EXPECT_EQ(out[0].shape(), k.out);
      EXPECT_TRUE(all_close(values_of(out[0]), naive_expand(x, k.in, k.out)));
    }
  }
}

TEST(RuntimeBroadcastOps, ExpandRefusesShapesThatDoNotBroadcast) {
  ModelBuilder mb;
  mb.input("x", {3, 2}).output("y");
  mb.initializer_i64("shape", {2}, {4, 2});
  mb.node("Expand", {"x", "shape"}, {"y"});
  expect_error_kind([&] { runtime::Model::load(mb.save("expand_bad.onnx")); }, ErrorKind::BadInput, "broadcast");
  ModelBuilder neg;
  neg.input("x", {3, 2}).output("y");
  neg.initializer_i64("shape", {2}, {-1, 2});
  neg.node("Expand", {"x", "shape"}, {"y"});
  expect_error_kind([&] { runtime::Model::load(neg.save("expand_negative.onnx")); }, ErrorKind::BadInput, "negative");
}

TEST(RuntimeBroadcastOps, WhereWithAConstantConditionMatchesNaive) {
  struct Case {
    std::vector<std::int64_t> c, x, y, out;
  };
  const std::vector<Case> cases{
      {{2, 3, 4}, {2, 3, 4}, {2, 3, 4}, {2, 3, 4}},
      {{3, 1}, {2, 3, 4}, {4}, {2, 3, 4}},  // condition and Y broadcast
      {{4}, {2, 1, 4}, {3, 1}, {2, 3, 4}},  // all three broadcast
      {{}, {3}, {2, 1}, {2, 3}},            // a scalar condition
      {{0, 1}, {3}, {1, 3}, {0, 3}},        // empty
  };
  for (const auto& k : cases) {
    for (bool optimize : {true, false}) {
      SCOPED_TRACE(dims_str(k.c) + " " + dims_str(k.x) + " " + dims_str(k.y) + (optimize ? "" : " unoptimized"));
      std::vector<bool> cond(static_cast<std::size_t>(numel(k.c)));
      for (std::size_t i = 0; i < cond.size(); ++i) cond[i] = (i * 7 + 3) % 5 < 2;
      ModelBuilder mb;
      mb.input("x", k.x).input("y", k.y).output("z");
      bool_initializer(mb, "c", k.c, cond);
      mb.node("Where", {"c", "x", "y"}, {"z"});
      const auto x = random_values(static_cast<std::size_t>(numel(k.x)), 11);
      const auto y = random_values(static_cast<std::size_t>(numel(k.y)), 12, 2.0f, 3.0f);
      const auto out = run_model(mb, "where.onnx", {make_f32(k.x, x), make_f32(k.y, y)}, with_passes(optimize));
      EXPECT_EQ(out[0].shape(), k.out);
      std::vector<float> want(static_cast<std::size_t>(numel(k.out)));
      for (std::size_t i = 0; i < want.size(); ++i) {
        const auto oi = static_cast<std::int64_t>(i);
        want[i] = cond[static_cast<std::size_t>(naive_broadcast_index(oi, k.c, k.out))]
                      ? x[static_cast<std::size_t>(naive_broadcast_index(oi, k.x, k.out))]
                      : y[static_cast<std::size_t>(naive_broadcast_index(oi, k.y, k.out))];
      }
      EXPECT_TRUE(all_close(values_of(out[0]), want));
    }
  }
}

// Equal of two int64 constants and of two float32 constants (broadcast),
// evaluated at load, picks between a computed X and a constant Y.
TEST(RuntimeBroadcastOps, EqualOfConstantsMatchesNaive) {
  const std::vector<std::int64_t> ai{3, -1, 7, 0, 5, -1};  // [2, 3]
  const std::vector<std::int64_t> bi{-1, 7, 0};            // [3]
  const std::vector<float> af{0.5f, -2.0f};                // [2, 1]
  const std::vector<float> bf{0.5f, -2.0f, 1.0f};          // [3]
  for (bool optimize : {true, false}) {
    for (bool integer : {true, false}) {
      SCOPED_TRACE(std::string(integer ? "int64" : "float32") + (optimize ? "" : " unoptimized"));
      ModelBuilder mb;
      mb.input("x", {2, 3}).output("z");
      if (integer) {
        mb.initializer_i64("a", {2, 3}, ai);
        mb.initializer_i64("b", {3}, bi);
      } else {
        mb.initializer("a", {2, 1}, af);
        mb.initializer("b", {3}, bf);
      }
      mb.initializer("y", {1}, {-9.0f});
      mb.node("Equal", {"a", "b"}, {"c"});
      mb.node("Where", {"c", "x", "y"}, {"z"});
      const auto x = random_values(6, 21);
      const auto out = run_model(mb, "equal.onnx", {make_f32({2, 3}, x)}, with_passes(optimize));
      ASSERT_EQ(out[0].shape(), (std::vector<std::int64_t>{2, 3}));
      std::vector<float> want(6);
      for (std::size_t r = 0; r < 2; ++r) {
        for (std::size_t c = 0; c < 3; ++c) {
          const bool eq = integer ? ai[r * 3 + c] == bi[c] : af[r] == bf[c];
          want[r * 3 + c] = eq ? x[r * 3 + c] : -9.0f;
        }
      }
      EXPECT_TRUE(all_close(values_of(out[0]), want));
    }
  }
}

TEST(RuntimeBroadcastOps, EqualOfComputedTensorsIsRefusedAtLoad) {
  ModelBuilder mb;
  mb.input("x", {2, 3}).output("z");
  mb.initializer("b", {3}, {1.0f, 2.0f, 3.0f});
  mb.node("Equal", {"x", "b"}, {"c"});
  mb.node("Where", {"c", "x", "b"}, {"z"});
  expect_error_kind([&] { runtime::Model::load(mb.save("equal_computed.onnx")); }, ErrorKind::Unsupported, "Equal");
}

TEST(RuntimeBroadcastOps, ConstantOfShapeMatchesItsDefinition) {
  struct Case {
    std::vector<std::int64_t> shape;
    int elem_type;  // 0: no value attribute (float32 zeros)
    std::string raw;
    float fill;
  };
  const std::vector<Case> cases{
      {{2, 3}, onnx::TensorProto::FLOAT, raw_of(2.5f), 2.5f},
      {{3}, 0, "", 0.0f},                                    // default value, broadcast over the rows
      {{}, onnx::TensorProto::FLOAT, raw_of(-4.0f), -4.0f},  // an empty shape: a scalar
  };
  for (const auto& k : cases) {
    for (bool optimize : {true, false}) {
      SCOPED_TRACE(dims_str(k.shape) + (optimize ? "" : " unoptimized"));
      ModelBuilder mb;
      mb.input("x", {2, 3}).output("y");
      mb.initializer_i64("shape", {static_cast<std::int64_t>(k.shape.size())}, k.shape);
      auto& n = mb.node("ConstantOfShape", {"shape"}, {"c"});
      if (k.elem_type != 0) set_value(n, k.elem_type, k.raw);
      mb.node("Add", {"x", "c"}, {"y"});
      const auto x = random_values(6, 5);
      const auto out = run_model(mb, "constant_of_shape.onnx", {make_f32({2, 3}, x)}, with_passes(optimize));
      auto want = x;
      for (auto& v : want) v += k.fill;
      EXPECT_TRUE(all_close(values_of(out[0]), want));
    }
  }
}

// ConstantOfShape's int64 ones ([1, 1, 1]) as Expand's shape, and a float
// one with a zero size concatenated to a computed tensor.
TEST(RuntimeBroadcastOps, ConstantOfShapeMakesInt64ShapesAndEmptyTensors) {
  for (bool optimize : {true, false}) {
    SCOPED_TRACE(optimize ? "optimized" : "unoptimized");
    ModelBuilder mb;
    mb.input("x", {2, 1}).output("y").output("z");
    mb.initializer_i64("three", {1}, {3});
    set_value(mb.node("ConstantOfShape", {"three"}, {"ones"}), onnx::TensorProto::INT64, raw_of(std::int64_t{1}));
    mb.node("Expand", {"x", "ones"}, {"y"});
    mb.initializer_i64("two_zero", {2}, {2, 0});
    set_value(mb.node("ConstantOfShape", {"two_zero"}, {"empty"}), onnx::TensorProto::FLOAT, raw_of(1.0f));
    set_int(mb.node("Concat", {"x", "empty"}, {"z"}), "axis", 1);
    const auto x = random_values(2, 8);
    const auto out = run_model(mb, "constant_of_shape_i64.onnx", {make_f32({2, 1}, x)}, with_passes(optimize));
    EXPECT_EQ(out[0].shape(), (std::vector<std::int64_t>{1, 2, 1}));
    EXPECT_TRUE(all_close(values_of(out[0]), x));
    EXPECT_EQ(out[1].shape(), (std::vector<std::int64_t>{2, 1}));
    EXPECT_TRUE(all_close(values_of(out[1]), x));
  }
}

// torch.onnx.export's `cls.expand(x.shape[0], -1, -1)` (opset 17): the -1s
// become 1 through ConstantOfShape, Mul, Equal and Where on a shape computed
// from the batch, then the token is concatenated before the sequence.
TEST(RuntimeBroadcastOps, ClassTokenExpandOverADynamicBatchMatchesNaive) {
  const std::vector<float> cls{0.25f, -1.5f, 3.0f};
  ModelBuilder mb;
  mb.input("x", {-1, 4, 3}).output("y");
  mb.initializer("cls", {1, 1, 3}, cls);
  mb.initializer_i64("zero", {}, {0});
  mb.initializer_i64("axes", {1}, {0});
  mb.initializer_i64("minus_ones", {2}, {-1, -1});
  mb.initializer_i64("flat", {1}, {-1});
  mb.initializer_i64("minus_one", {}, {-1});
  mb.node("Shape", {"x"}, {"s"});
  set_int(mb.node("Gather", {"s", "zero"}, {"n"}), "axis", 0);
  mb.node("Unsqueeze", {"n", "axes"}, {"n1"});
  set_int(mb.node("Concat", {"n1", "minus_ones"}, {"sizes"}), "axis", 0);
  mb.node("Reshape", {"sizes", "flat"}, {"sizes1"});
  mb.node("Shape", {"sizes1"}, {"len"});
  set_value(mb.node("ConstantOfShape", {"len"}, {"ones"}), onnx::TensorProto::INT64, raw_of(std::int64_t{1}));
  mb.node("Mul", {"ones", "minus_one"}, {"negs"});
  mb.node("Equal", {"sizes1", "negs"}, {"is_neg"});
  mb.node("Where", {"is_neg", "ones", "sizes1"}, {"target"});
  mb.node("Expand", {"cls", "target"}, {"tokens"});
  set_int(mb.node("Concat", {"tokens", "x"}, {"y"}), "axis", 1);
  for (bool optimize : {true, false}) {
    auto model = runtime::Model::load(mb.save("class_token.onnx"), with_passes(optimize));
    for (std::int64_t batch : {1, 3, 2}) {
      SCOPED_TRACE("batch " + std::to_string(batch) + (optimize ? "" : " unoptimized"));
      const auto x = random_values(static_cast<std::size_t>(batch * 12), 30 + static_cast<std::uint32_t>(batch));
      const auto out = model.run({make_f32({batch, 4, 3}, x)});
      ASSERT_EQ(out[0].shape(), (std::vector<std::int64_t>{batch, 5, 3}));
      std::vector<float> want;
      for (std::int64_t b = 0; b < batch; ++b) {
        want.insert(want.end(), cls.begin(), cls.end());
        want.insert(want.end(), x.begin() + b * 12, x.begin() + (b + 1) * 12);
      }
      EXPECT_TRUE(all_close(values_of(out[0]), want));
    }
  }
}

}  // namespace
}  // namespace pt2onnx::testing
