// Range and ScatterND (ops/index.h) against their ONNX definitions: Range on
// int64 and float32 constants (rising, falling, empty), ScatterND evaluated at
// load on int64 constants (whole rows, negative indices) and run as a kernel
// on computed float32 data (element and slice updates, each reduction with
// repeated indices, no updates at all); the inputs the engine refuses; each
// with the passes on and off.
#include <string>

#include "pt2onnx/error.h"
#include "runtime/naive_ops.h"
#include "runtime/test_model.h"

namespace pt2onnx::testing {
namespace {

// Range(start, limit, delta) of int64 or float32 scalars, observed after x (one element) in Concat(x, Range).
std::vector<float> range_of(bool integer, double start, double limit, double delta, std::int64_t length,
                            bool optimize) {
  ModelBuilder mb;
  mb.input("x", {1}).output("y");
  if (integer) {
    mb.initializer_i64("s", {}, {static_cast<std::int64_t>(start)});
    mb.initializer_i64("l", {}, {static_cast<std::int64_t>(limit)});
    mb.initializer_i64("d", {}, {static_cast<std::int64_t>(delta)});
    mb.node("Range", {"s", "l", "d"}, {"r"});
    set_int(mb.node("Cast", {"r"}, {"rf"}), "to", onnx::TensorProto::FLOAT);
  } else {
    mb.initializer("s", {}, {static_cast<float>(start)});
    mb.initializer("l", {}, {static_cast<float>(limit)});
    mb.initializer("d", {}, {static_cast<float>(delta)});
    mb.node("Range", {"s", "l", "d"}, {"rf"});
  }
  set_int(mb.node("Concat", {"x", "rf"}, {"y"}), "axis", 0);
  const auto out = run_model(mb, "range.onnx", {make_f32({1}, {-100.0f})}, with_passes(optimize));
  EXPECT_EQ(out[0].shape(), (std::vector<std::int64_t>{length + 1}));
  const auto all = values_of(out[0]);
  EXPECT_EQ(all.at(0), -100.0f);
  return {all.begin() + 1, all.end()};
}

TEST(RuntimeIndexOps, RangeMatchesItsDefinition) {
  for (bool optimize : {true, false}) {
    SCOPED_TRACE(optimize ? "optimized" : "unoptimized");
    EXPECT_TRUE(all_close(range_of(true, 0, 5, 1, 5, optimize), {0, 1, 2, 3, 4}));
    EXPECT_TRUE(all_close(range_of(true, 10, 1, -3, 3, optimize), {10, 7, 4}));  // ceil(9 / 3)
    EXPECT_TRUE(all_close(range_of(true, -2, 3, 2, 3, optimize), {-2, 0, 2}));   // ceil(5 / 2)
    EXPECT_TRUE(all_close(range_of(true, 3, 3, 1, 0, optimize), {}));            // empty
    EXPECT_TRUE(all_close(range_of(true, 1, 5, -1, 0, optimize), {}));           // the wrong way: empty
    EXPECT_TRUE(all_close(range_of(false, 0.5, 2.0, 0.5, 3, optimize), {0.5f, 1.0f, 1.5f}));
    EXPECT_TRUE(all_close(range_of(false, 1.0, -0.2, -0.5, 3, optimize), {1.0f, 0.5f, 0.0f}));  // ceil(2.4)
  }
}

TEST(RuntimeIndexOps, RangeRefusesAZeroDeltaAndComputedBounds) {
  ModelBuilder zero;
  zero.input("x", {1}).output("y");
  zero.initializer_i64("s", {}, {0});
  zero.initializer_i64("d", {}, {0});
  zero.node("Range", {"s", "s", "d"}, {"r"});
  set_int(zero.node("Cast", {"r"}, {"rf"}), "to", onnx::TensorProto::FLOAT);
  zero.node("Add", {"x", "rf"}, {"y"});
  expect_error_kind([&] { runtime::Model::load(zero.save("range_zero.onnx")); }, ErrorKind::BadInput, "delta is 0");
  ModelBuilder computed;
  computed.input("x", {1}).output("y");
  computed.initializer("s", {}, {0.0f});
  computed.initializer("one", {1}, {1.0f});
  computed.node("Range", {"s", "x", "one"}, {"r"});
  set_int(computed.node("Concat", {"r", "x"}, {"y"}), "axis", 0);
  expect_error_kind([&] { runtime::Model::load(computed.save("range_computed.onnx")); }, ErrorKind::Unsupported,
                    "Range");
}

// The spec's reference: output = data; output[indices[t]] = updates[t] (or combined).
std::vector<float> naive_scatter_nd(std::vector<float> data, const std::vector<std::int64_t>& dims,
                                    const std::vector<std::int64_t>& indices, std::int64_t k,
                                    const std::vector<float>& updates, const std::string& reduction) {
  std::int64_t slice = 1;
  for (auto i = static_cast<std::size_t>(k); i < dims.size(); ++i) slice *= dims[i];
  const auto tuples = static_cast<std::int64_t>(indices.size()) / k;
  for (std::int64_t t = 0; t < tuples; ++t) {
    std::int64_t at = 0;
    for (std::int64_t j = 0; j < k; ++j) {
      auto idx = indices[static_cast<std::size_t>(t * k + j)];
      if (idx < 0) idx += dims[static_cast<std::size_t>(j)];
      at = at * dims[static_cast<std::size_t>(j)] + idx;
    }
    for (std::int64_t e = 0; e < slice; ++e) {
      auto& d = data[static_cast<std::size_t>(at * slice + e)];
      const auto u = updates[static_cast<std::size_t>(t * slice + e)];
      if (reduction == "add") {
        d += u;
      } else if (reduction == "mul") {
        d *= u;
      } else if (reduction == "max") {
        d = d > u ? d : u;
      } else if (reduction == "min") {
        d = d < u ? d : u;
      } else {
        d = u;
      }
    }
  }
  return data;
}

TEST(RuntimeIndexOps, ScatterNDOfComputedTensorsMatchesTheSpec) {
  struct Case {
    std::vector<std::int64_t> data, indices_dims, indices;
    std::string reduction;
  };
  const std::vector<Case> cases{
      {{2, 3, 4}, {2, 2}, {0, 1, 1, -1}, "none"},                  // two [4] slices, a negative index
      {{2, 3, 4}, {3, 3}, {0, 0, 0, 1, 2, 3, -2, 0, -1}, "none"},  // single elements
      {{4, 3}, {1, 3, 1}, {3, 0, 2}, "none"},                      // rows, indices of rank 3
      {{4, 3}, {3, 1}, {1, 1, 2}, "add"},                          // a repeated row accumulates
      {{4, 3}, {3, 1}, {1, 1, 2}, "mul"},
      {{4, 3}, {3, 1}, {1, 1, 2}, "max"},
      {{4, 3}, {3, 1}, {1, 1, 2}, "min"},
      {{4, 3}, {0, 1}, {}, "none"},  // no updates
  };
  for (const auto& k : cases) {
    for (bool optimize : {true, false}) {
      SCOPED_TRACE(dims_str(k.data) + " " + dims_str(k.indices) + " " + k.reduction + (optimize ? "" : " unoptimized"));
      const auto kk = k.indices_dims.back();
      std::vector<std::int64_t> udims(k.indices_dims.begin(), k.indices_dims.end() - 1);
      udims.insert(udims.end(), k.data.begin() + kk, k.data.end());
      ModelBuilder mb(18);  // the reductions max and min came in opset 18
      mb.input("x", k.data).output("y");
      const bool no_updates = numel(udims) == 0;  // a constant: graph inputs have positive sizes
      if (!no_updates) mb.input("u", udims);
      auto& n = mb.node("ScatterND", {"x", "i", "u"}, {"y"});
      if (k.reduction != "none") set_string(n, "reduction", k.reduction);
      const auto x = random_values(static_cast<std::size_t>(numel(k.data)), 40);
      const auto u = random_values(static_cast<std::size_t>(numel(udims)), 41, -2.0f, 2.0f);
      mb.initializer_i64("i", k.indices_dims, k.indices);
      if (no_updates) mb.initializer("u", udims, u);
      std::vector<Tensor> inputs{make_f32(k.data, x)};
      if (!no_updates) inputs.push_back(make_f32(udims, u));
      const auto out = run_model(mb, "scatter_nd.onnx", inputs, with_passes(optimize));
      ASSERT_EQ(out[0].shape(), k.data);
      EXPECT_TRUE(all_close(values_of(out[0]), naive_scatter_nd(x, k.data, k.indices, kk, u, k.reduction)));
    }
  }
}

// Swin's attention mask: ConstantOfShape zeros, rows overwritten with int64
// constants, evaluated at load.
TEST(RuntimeIndexOps, ScatterNDOfInt64ConstantsIsEvaluatedAtLoad) {
  for (bool optimize : {true, false}) {
    ModelBuilder mb;
    mb.input("x", {3, 2}).output("y");
    mb.initializer_i64("data", {3, 2}, {1, 2, 3, 4, 5, 6});
    mb.initializer_i64("i", {2, 1}, {-1, 0});
    mb.initializer_i64("u", {2, 2}, {50, 60, 10, 20});
    mb.node("ScatterND", {"data", "i", "u"}, {"r"});
    set_int(mb.node("Cast", {"r"}, {"rf"}), "to", onnx::TensorProto::FLOAT);
    mb.node("Add", {"x", "rf"}, {"y"});
    const auto out =
        run_model(mb, "scatter_nd_int64.onnx", {make_f32({3, 2}, std::vector<float>(6, 0.5f))}, with_passes(optimize));
    EXPECT_TRUE(all_close(values_of(out[0]), {10.5f, 20.5f, 3.5f, 4.5f, 50.5f, 60.5f}));
  }
}

TEST(RuntimeIndexOps, ScatterNDRefusesBadIndicesAndReductions) {
  auto model = [](const std::vector<std::int64_t>& indices, const std::vector<std::int64_t>& udims,
                  const std::string& reduction, const std::string& file) {
    ModelBuilder mb;
    mb.input("x", {4, 3}).input("u", udims).output("y");
    mb.initializer_i64("i", {static_cast<std::int64_t>(indices.size()), 1}, indices);
    auto& n = mb.node("ScatterND", {"x", "i", "u"}, {"y"});
    if (!reduction.empty()) set_string(n, "reduction", reduction);
    return mb.save(file);
  };
  expect_error_kind(
      [&] {
        runtime::Model::load(model({4}, {1, 3}, "", "scatter_oob.onnx"));
      },
      ErrorKind::BadInput, "out of range");
  expect_error_kind(
      [&] {
        runtime::Model::load(model({1}, {1, 2}, "", "scatter_shape.onnx"));
      },
      ErrorKind::BadInput, "updates have shape");
  expect_error_kind(
      [&] {
        runtime::Model::load(model({1}, {1, 3}, "sum", "scatter_sum.onnx"));
      },
      ErrorKind::BadInput, "reduction is 'sum'");
}

}  // namespace
}  // namespace pt2onnx::testing
