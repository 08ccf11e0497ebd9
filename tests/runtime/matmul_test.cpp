// Gemm (transA, transB, alpha, beta, every shape of C) and MatMul (batched,
// broadcast, rank 1) against naive matrix products.
#include <string>

#include "runtime/naive_ops.h"
#include "runtime/test_model.h"

namespace pt2onnx::testing {
namespace {

struct GemmCase {
  std::int64_t m, k, n;
  bool ta = false, tb = false;
  float alpha = 1.0f, beta = 1.0f;
  std::vector<std::int64_t> c;  // empty: no C
  bool b_constant = true;
  bool c_constant = true;
};

void check_gemm(const GemmCase& g, std::uint32_t seed) {
  std::ostringstream s;
  s << "Gemm M " << g.m << " K " << g.k << " N " << g.n << " transA " << g.ta << " transB " << g.tb << " alpha "
    << g.alpha << " beta " << g.beta << " C " << (g.c.empty() ? "none" : dims_str(g.c))
    << (g.b_constant ? " constant B" : " computed B") << (g.c_constant ? "" : " computed C");
  SCOPED_TRACE(s.str());
  const std::vector<std::int64_t> ad = g.ta ? std::vector<std::int64_t>{g.k, g.m} : std::vector<std::int64_t>{g.m, g.k};
  const std::vector<std::int64_t> bd = g.tb ? std::vector<std::int64_t>{g.n, g.k} : std::vector<std::int64_t>{g.k, g.n};
  const auto a = random_values(static_cast<std::size_t>(numel(ad)), seed);
  const auto b = random_values(static_cast<std::size_t>(numel(bd)), seed + 1);
  const auto c = random_values(static_cast<std::size_t>(numel(g.c)), seed + 2);
  ModelBuilder mb;
  mb.input("a", ad).output("y");
  std::vector<Tensor> inputs{make_f32(ad, a)};
  if (g.b_constant) {
    mb.initializer("b", bd, b);
  } else {
    mb.input("b", bd);
    inputs.push_back(make_f32(bd, b));
  }
  std::vector<std::string> names{"a", "b"};
  if (!g.c.empty()) {
    if (g.c_constant) {
      mb.initializer("c", g.c, c);
    } else {
      mb.input("c", g.c);
      inputs.push_back(make_f32(g.c, c));
    }
    names.push_back("c");
  }
  auto& node = mb.node("Gemm", names, {"y"});
  if (g.ta) set_int(node, "transA", 1);
  if (g.tb) set_int(node, "transB", 1);
  if (g.alpha != 1.0f) set_float(node, "alpha", g.alpha);
  if (g.beta != 1.0f) set_float(node, "beta", g.beta);

  const auto am = g.ta ? transpose2d(a, g.k, g.m) : a;
  const auto bm = g.tb ? transpose2d(b, g.n, g.k) : b;
  auto want = naive_matmul2d(am, bm, g.m, g.k, g.n);
  if (!g.c.empty()) {
    std::vector<std::int64_t> od;
    want = naive_broadcast(want, {g.m, g.n}, c, g.c, od, [&](float p, float q) { return g.alpha * p + g.beta * q; });
  } else {
    for (auto& v : want) v *= g.alpha;
  }
  const auto out = run_model(mb, "gemm.onnx", inputs);
  EXPECT_EQ(out[0].shape(), (Shape{g.m, g.n}));
  EXPECT_TRUE(all_close(values_of(out[0]), want));
}

TEST(RuntimeGemm, AllVariantsMatchNaive) {
  const std::vector<GemmCase> cases{
      {1, 1280, 2, false, true, 1.0f, 1.0f, {2}},  // the seed's classifier head
      {3, 17, 5, false, false, 1.0f, 1.0f, {}},
      {3, 17, 5, true, false, 1.0f, 1.0f, {1, 5}},
      {3, 17, 5, true, true, 0.5f, 2.0f, {3, 5}},
      {4, 9, 6, false, true, 1.0f, 0.5f, {4, 1}},
      {4, 9, 6, false, false, 1.5f, 1.0f, {}},
      {4, 9, 6, false, false, 1.0f, 1.0f, {}},
      {2, 8, 3, false, true, 2.0f, 1.0f, {3}, false},            // computed B, alpha as a post-op
      {2, 8, 3, false, false, 1.0f, 1.0f, {2, 3}, true, false},  // computed C
      {5, 4, 7, false, false, 1.0f, 3.0f, {1}},                  // scalar C
  };
  std::uint32_t seed = 900;
  for (const auto& c : cases) check_gemm(c, seed += 10);
}

void check_matmul(const std::vector<std::int64_t>& ad, const std::vector<std::int64_t>& bd, bool b_constant,
                  std::uint32_t seed) {
  SCOPED_TRACE("MatMul " + dims_str(ad) + " x " + dims_str(bd) + (b_constant ? " (constant B)" : ""));
  const auto a = random_values(static_cast<std::size_t>(numel(ad)), seed);
  const auto b = random_values(static_cast<std::size_t>(numel(bd)), seed + 1);
  ModelBuilder mb;
  mb.input("a", ad).output("y");
  std::vector<Tensor> inputs{make_f32(ad, a)};
  if (b_constant) {
    mb.initializer("b", bd, b);
  } else {
    mb.input("b", bd);
    inputs.push_back(make_f32(bd, b));
  }
  mb.node("MatMul", {"a", "b"}, {"y"});

  // Naive numpy matmul: promote rank-1 operands, broadcast batch dims.
  auto ea = ad, eb = bd;
  if (ea.size() == 1) ea.insert(ea.begin(), 1);
  if (eb.size() == 1) eb.push_back(1);
  const auto m = ea[ea.size() - 2], k = ea.back(), n = eb.back();
  std::vector<std::int64_t> ba(ea.begin(), ea.end() - 2), bb(eb.begin(), eb.end() - 2), batch;
  std::vector<float> ia(static_cast<std::size_t>(numel(ba))), ib(static_cast<std::size_t>(numel(bb)));
  for (std::size_t i = 0; i < ia.size(); ++i) ia[i] = static_cast<float>(i);
  for (std::size_t i = 0; i < ib.size(); ++i) ib[i] = static_cast<float>(i);
  std::vector<std::pair<std::size_t, std::size_t>> pairs;
  const auto index_a = naive_broadcast(ia, ba, ib, bb, batch, [](float x, float) { return x; });
  const auto index_b = naive_broadcast(ia, ba, ib, bb, batch, [](float, float y) { return y; });
  std::vector<float> want;
  for (std::size_t i = 0; i < index_a.size(); ++i) {
    const auto off_a = static_cast<std::size_t>(index_a[i]) * static_cast<std::size_t>(m * k);
    const auto off_b = static_cast<std::size_t>(index_b[i]) * static_cast<std::size_t>(k * n);
    const auto c = naive_matmul2d({a.begin() + static_cast<std::ptrdiff_t>(off_a),
                                   a.begin() + static_cast<std::ptrdiff_t>(off_a + static_cast<std::size_t>(m * k))},
                                  {b.begin() + static_cast<std::ptrdiff_t>(off_b),
                                   b.begin() + static_cast<std::ptrdiff_t>(off_b + static_cast<std::size_t>(k * n))},
                                  m, k, n);
    want.insert(want.end(), c.begin(), c.end());
  }
  auto out_dims = batch;
  if (ad.size() > 1) out_dims.push_back(m);
  if (bd.size() > 1) out_dims.push_back(n);
  const auto out = run_model(mb, "matmul.onnx", inputs);
  EXPECT_EQ(out[0].shape(), out_dims);
  EXPECT_TRUE(all_close(values_of(out[0]), want));
}

TEST(RuntimeMatMul, BatchedBroadcastAndRankOneMatchNaive) {
  std::uint32_t seed = 1000;
  check_matmul({3, 7}, {7, 5}, true, seed += 10);
  check_matmul({3, 7}, {7, 5}, false, seed += 10);
  check_matmul({2, 3, 7}, {7, 5}, true, seed += 10);
  check_matmul({2, 3, 7}, {2, 7, 5}, false, seed += 10);
  check_matmul({4, 1, 3, 6}, {2, 6, 5}, false, seed += 10);
  check_matmul({7}, {7, 5}, false, seed += 10);
  check_matmul({3, 7}, {7}, false, seed += 10);
  check_matmul({2, 3, 7}, {7}, true, seed += 10);
  check_matmul({1, 1280}, {1280, 10}, true, seed += 10);
}

}  // namespace
}  // namespace pt2onnx::testing
