// Einsum (ops/einsum.h) of two computed float32 tensors against loops written
// out per equation: MaxViT's two attention products (with its spaces, over a
// dynamic batch at several sizes), a plain and an implicit matrix product, an
// outer product, letters summed from one operand only, an empty operand; and
// the equations the engine refuses, each with the passes on and off.
#include <string>

#include "pt2onnx/error.h"
#include "runtime/naive_ops.h"
#include "runtime/test_model.h"

namespace pt2onnx::testing {
namespace {

std::vector<Tensor> run_einsum(const std::string& equation, const std::vector<std::int64_t>& ad,
                               const std::vector<std::int64_t>& bd, const std::vector<float>& a,
                               const std::vector<float>& b, bool optimize) {
  ModelBuilder mb;
  mb.input("a", ad).input("b", bd).output("y");
  set_string(mb.node("Einsum", {"a", "b"}, {"y"}), "equation", equation);
  return run_model(mb, "einsum.onnx", {make_f32(ad, a), make_f32(bd, b)}, with_passes(optimize));
}

// MaxViT: q k^T as "B G H I D, B G H J D -> B G H I J", then the weights
// times v as "B G H I J, B G H J D -> B G H I D", batch dynamic; both run as
// oneDNN's matmul on strided views. Small odd sizes, and MaxViT-T's own (49
// tokens per window, 32 per head).
void check_maxvit_products(std::int64_t g, std::int64_t h, std::int64_t i_n, std::int64_t j_n, std::int64_t d_n) {
  ModelBuilder mb;
  mb.input("q", {-1, g, h, i_n, d_n}).input("k", {-1, g, h, j_n, d_n}).output("s").output("o");
  set_string(mb.node("Einsum", {"q", "k"}, {"s"}), "equation", "B G H I D, B G H J D -> B G H I J");
  set_string(mb.node("Einsum", {"s", "k"}, {"o"}), "equation", "B G H I J, B G H J D -> B G H I D");
  for (bool optimize : {true, false}) {
    auto model = runtime::Model::load(mb.save("einsum_maxvit.onnx"), with_passes(optimize));
    for (std::int64_t batch : {1, 2, 3}) {
      SCOPED_TRACE("batch " + std::to_string(batch) + (optimize ? "" : " unoptimized"));
      const auto heads = batch * g * h;
      const auto q = random_values(static_cast<std::size_t>(heads * i_n * d_n), 50);
      const auto k = random_values(static_cast<std::size_t>(heads * j_n * d_n), 51);
      const auto out = model.run({make_f32({batch, g, h, i_n, d_n}, q), make_f32({batch, g, h, j_n, d_n}, k)});
      ASSERT_EQ(out[0].shape(), (std::vector<std::int64_t>{batch, g, h, i_n, j_n}));
      ASSERT_EQ(out[1].shape(), (std::vector<std::int64_t>{batch, g, h, i_n, d_n}));
      std::vector<float> s(static_cast<std::size_t>(heads * i_n * j_n)), o(static_cast<std::size_t>(heads * i_n * d_n));
      for (std::int64_t x = 0; x < heads; ++x) {
        // s = q k^T; o = s k, per head.
        const auto sx = naive_matmul2d(
            {q.begin() + x * i_n * d_n, q.begin() + (x + 1) * i_n * d_n},
            transpose2d({k.begin() + x * j_n * d_n, k.begin() + (x + 1) * j_n * d_n}, j_n, d_n), i_n, d_n, j_n);
        std::copy(sx.begin(), sx.end(), s.begin() + x * i_n * j_n);
        const auto ox = naive_matmul2d(sx, {k.begin() + x * j_n * d_n, k.begin() + (x + 1) * j_n * d_n}, i_n, j_n, d_n);
        std::copy(ox.begin(), ox.end(), o.begin() + x * i_n * d_n);
      }
      EXPECT_TRUE(all_close(values_of(out[0]), s, 1e-5, 1e-5));
      EXPECT_TRUE(all_close(values_of(out[1]), o, 1e-4, 1e-5));
    }
  }
}

TEST(RuntimeEinsum, MaxVitAttentionProductsMatchLoops) {
  check_maxvit_products(3, 2, 5, 4, 6);
  check_maxvit_products(2, 2, 49, 49, 32);
}

TEST(RuntimeEinsum, OtherTwoOperandFormsMatchLoops) {
  const auto a = random_values(12, 60);  // [3, 4]
  const auto b = random_values(20, 61);  // [4, 5]
  const auto v = random_values(4, 62);   // [4]
  for (bool optimize : {true, false}) {
    SCOPED_TRACE(optimize ? "optimized" : "unoptimized");
    const auto mm = naive_matmul2d(a, b, 3, 4, 5);
    EXPECT_TRUE(all_close(values_of(run_einsum("ij,jk->ik", {3, 4}, {4, 5}, a, b, optimize)[0]), mm, 1e-5, 1e-5));
    // Implicit output: the letters seen once, alphabetically.
    const auto implicit = run_einsum("ij,jk", {3, 4}, {4, 5}, a, b, optimize);
    EXPECT_EQ(implicit[0].shape(), (std::vector<std::int64_t>{3, 5}));
    EXPECT_TRUE(all_close(values_of(implicit[0]), mm, 1e-5, 1e-5));
    // "ij,jk->ki": the product transposed.
    EXPECT_TRUE(all_close(values_of(run_einsum("ij,jk->ki", {3, 4}, {4, 5}, a, b, optimize)[0]), transpose2d(mm, 3, 5),
                          1e-5, 1e-5));
    // Outer product.
    std::vector<float> outer(12 * 4);
    for (std::size_t x = 0; x < 12; ++x)
      for (std::size_t y = 0; y < 4; ++y) outer[x * 4 + y] = a[x] * v[y];
    EXPECT_TRUE(all_close(values_of(run_einsum("i,j->ij", {12}, {4}, a, v, optimize)[0]), outer, 1e-6, 1e-6));
    // k only in the first operand and j only in the second: both summed.
    double sum_v = 0.0;
    for (auto x : v) sum_v += x;
    std::vector<float> row_sums(3);
    for (std::size_t r = 0; r < 3; ++r) {
      double s = 0.0;
      for (std::size_t c = 0; c < 4; ++c) s += a[r * 4 + c];
      row_sums[r] = static_cast<float>(s * sum_v);
    }
    EXPECT_TRUE(all_close(values_of(run_einsum("ik,j->i", {3, 4}, {4}, a, v, optimize)[0]), row_sums, 1e-5, 1e-5));
    // An empty summed axis gives zeros; an empty output axis gives nothing (constant operands: graph inputs
    // have positive sizes).
    ModelBuilder zeros;
    zeros.input("x", {3, 5}).output("y");
    zeros.initializer("a", {3, 0}, {});
    zeros.initializer("b", {0, 5}, {});
    set_string(zeros.node("Einsum", {"a", "b"}, {"e"}), "equation", "ij,jk->ik");
    zeros.node("Add", {"x", "e"}, {"y"});
    const auto x = random_values(15, 63);
    EXPECT_TRUE(all_close(
        values_of(run_model(zeros, "einsum_zeros.onnx", {make_f32({3, 5}, x)}, with_passes(optimize))[0]), x));
    ModelBuilder empty;
    empty.input("b", {4, 5}).output("y");
    empty.initializer("a", {0, 4}, {});
    set_string(empty.node("Einsum", {"a", "b"}, {"y"}), "equation", "ij,jk->ik");
    const auto e = run_model(empty, "einsum_empty.onnx", {make_f32({4, 5}, b)}, with_passes(optimize));
    EXPECT_EQ(e[0].shape(), (std::vector<std::int64_t>{0, 5}));
  }
}

TEST(RuntimeEinsum, UnsupportedAndMalformedEquationsAreRefused) {
  struct Case {
    std::string equation;
    std::vector<std::int64_t> a, b;
    ErrorKind kind;
    std::string needle;
  };
  const std::vector<Case> cases{
      {"...ij,...jk->...ik", {2, 3, 4}, {2, 4, 5}, ErrorKind::Unsupported, "ellipsis"},
      {"ii,ij->j", {3, 3}, {3, 4}, ErrorKind::Unsupported, "diagonal"},
      {"ij,jk->iz", {3, 4}, {4, 5}, ErrorKind::BadInput, "'z' is in no operand"},
      {"ij,jk->ik", {3, 4}, {5, 6}, ErrorKind::BadInput, "sizes 4 and 5"},
      {"ijk,jk->ik", {3, 4}, {4, 5}, ErrorKind::BadInput, "3 letters"},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.equation);
    ModelBuilder mb;
    mb.input("a", k.a).input("b", k.b).output("y");
    set_string(mb.node("Einsum", {"a", "b"}, {"y"}), "equation", k.equation);
    try {
      runtime::Model::load(mb.save("einsum_bad.onnx"));
      ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), k.kind) << e.what();
      EXPECT_NE(std::string(e.what()).find(k.needle), std::string::npos) << e.what();
    }
  }
  ModelBuilder none;
  none.input("a", {3, 4}).input("b", {4, 5}).output("y");
  none.node("Einsum", {"a", "b"}, {"y"});
  try {
    runtime::Model::load(none.save("einsum_none.onnx"));
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput) << e.what();
    EXPECT_NE(std::string(e.what()).find("'equation'"), std::string::npos) << e.what();
  }
  ModelBuilder one;
  one.input("a", {3, 4}).output("y");
  set_string(one.node("Einsum", {"a"}, {"y"}), "equation", "ij->ji");
  try {
    runtime::Model::load(one.save("einsum_one.onnx"));
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported) << e.what();
    EXPECT_NE(std::string(e.what()).find("1 operands"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pt2onnx::testing
