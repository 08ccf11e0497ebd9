// The pass pipeline: op counts before and after each pass, and the optimized
// graph's numbers equal to the unoptimized graph's (1e-4 relative), for the
// whole pipeline and for each pass on its own.
#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "pt2onnx/error.h"
#include "runtime/onnx_loader.h"
#include "runtime/passes/pipeline.h"
#include "runtime/planner.h"
#include "runtime/shape_inference.h"
#include "runtime/test_model.h"

namespace pt2onnx::testing {
namespace {

using runtime::OpType;

// One model holding every pattern the passes rewrite, as torch.onnx.export writes them.
ModelBuilder pattern_model() {
  ModelBuilder mb;
  mb.input("x", {-1, 3, 8, 8}).output("y");
  std::uint32_t seed = 2000;
  auto weight = [&](const std::string& name, std::vector<std::int64_t> dims, float lo = -0.5f, float hi = 0.5f) {
    mb.initializer(name, dims, random_values(static_cast<std::size_t>(numel(dims)), seed++, lo, hi));
  };
  auto batch_norm = [&](const std::string& in, const std::string& out, std::int64_t c) {
    weight(out + ".scale", {c}, 0.5f, 1.5f);
    weight(out + ".bias", {c});
    weight(out + ".mean", {c});
    weight(out + ".var", {c}, 0.5f, 2.0f);
    set_float(mb.node("BatchNormalization", {in, out + ".scale", out + ".bias", out + ".mean", out + ".var"}, {out}),
              "epsilon", 1e-3f);
  };
  auto conv = [&](const std::string& in, const std::string& w, const std::string& out, std::int64_t pad) {
    set_ints(mb.node("Conv", {in, w}, {out}), "pads", {pad, pad, pad, pad});
  };
  // Stem: shared weight behind an Identity, Conv + BN + SiLU.
  weight("w0", {8, 3, 3, 3});
  mb.node("Identity", {"w0"}, {"w0.shared"});
  conv("x", "w0.shared", "c0", 1);
  batch_norm("c0", "bn0", 8);
  mb.node("Sigmoid", {"bn0"}, {"s0"});
  mb.node("Mul", {"bn0", "s0"}, {"sw0"});
  // Residual block: Conv + BN + Add + Relu.
  weight("w1", {8, 8, 3, 3});
  conv("sw0", "w1", "c1", 1);
  batch_norm("c1", "bn1", 8);
  mb.node("Add", {"bn1", "sw0"}, {"r1"});
  mb.node("Relu", {"r1"}, {"a1"});
  // Clip(0, 6) and HardSwish after convolutions.
  weight("w2", {8, 8, 1, 1});
  conv("a1", "w2", "c2", 0);
  mb.initializer("zero", {}, {0.0f});
  mb.initializer("six", {}, {6.0f});
  mb.node("Clip", {"c2", "zero", "six"}, {"a2"});
  weight("w3", {8, 8, 3, 3});
  conv("a2", "w3", "c3", 1);
  mb.node("HardSwish", {"c3"}, {"a3"});
  // Squeeze-excitation with HardSigmoid.
  mb.node("GlobalAveragePool", {"a3"}, {"g"});
  weight("wse", {8, 8, 1, 1});
  conv("g", "wse", "se", 0);
  mb.node("HardSigmoid", {"se"}, {"hs"});
  mb.node("Mul", {"a3", "hs"}, {"m"});
  set_float(mb.node("Dropout", {"m"}, {"d"}), "ratio", 0.2f);
  // x.view(x.size(0), -1) and the classifier.
  mb.node("Shape", {"d"}, {"shape"});
  mb.initializer_i64("zero_i", {}, {0});
  mb.node("Gather", {"shape", "zero_i"}, {"batch"});
  mb.initializer_i64("axes", {1}, {0});
  mb.node("Unsqueeze", {"batch", "axes"}, {"batch1"});
  mb.initializer_i64("minus_one", {1}, {-1});
  set_int(mb.node("Concat", {"batch1", "minus_one"}, {"target"}), "axis", 0);
  mb.node("Reshape", {"d", "target"}, {"flat"});
  weight("fc", {5, 512});
  weight("fc.bias", {5});
  set_int(mb.node("Gemm", {"flat", "fc", "fc.bias"}, {"y"}), "transB", 1);
  return mb;
}

const runtime::PassReport& report_of(const std::vector<runtime::PassReport>& reports, const std::string& name) {
  auto it = std::find_if(reports.begin(), reports.end(), [&](const auto& r) { return r.name == name; });
  if (it == reports.end()) throw std::runtime_error("no report for " + name);
  return *it;
}

int count(const std::map<OpType, int>& counts, OpType op) {
  auto it = counts.find(op);
  return it == counts.end() ? 0 : it->second;
}

std::vector<runtime::PassReport> optimize(const ModelBuilder& mb, runtime::Graph* out = nullptr,
                                          const std::vector<std::string>& disabled = {}) {
  auto loaded = runtime::load_onnx_file(mb.save("passes.onnx"));
  runtime::infer_shapes(loaded.graph);
  auto reports = runtime::run_passes(loaded.graph, disabled);
  if (out) *out = loaded.graph;
  return reports;
}

// Every output with the whole pipeline equals the graph's as written (no passes).
void expect_as_written(const ModelBuilder& mb, const std::string& file, const std::vector<Tensor>& inputs, double atol,
                       double rtol) {
  runtime::Options plain;
  plain.optimize = false;
  const auto got = runtime::Model::load(mb.save(file)).run(inputs);
  const auto want = runtime::Model::load(mb.save(file), plain).run(inputs);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(all_close(values_of(got[i]), values_of(want[i]), atol, rtol)) << file << ", output " << i;
  }
}

TEST(RuntimePasses, EachPassChangesTheExpectedOpCounts) {
  runtime::Graph g;
  const auto reports = optimize(pattern_model(), &g);

  const auto& identity = report_of(reports, "remove_identity");
  EXPECT_EQ(count(identity.before, OpType::Identity), 1);
  EXPECT_EQ(count(identity.before, OpType::Dropout), 1);
  EXPECT_EQ(count(identity.after, OpType::Identity), 0);
  EXPECT_EQ(count(identity.after, OpType::Dropout), 0);
  EXPECT_EQ(identity.applied, 2);

  // At load the batch is a symbol: the Shape chain must stay.
  const auto& fold = report_of(reports, "fold_constants");
  EXPECT_EQ(count(fold.after, OpType::Shape), 1);
  EXPECT_EQ(count(fold.after, OpType::Gather), 1);

  const auto& bn = report_of(reports, "fold_batch_norm");
  EXPECT_EQ(count(bn.before, OpType::BatchNormalization), 2);
  EXPECT_EQ(count(bn.after, OpType::BatchNormalization), 0);
  EXPECT_EQ(count(bn.after, OpType::Conv), 5);

  const auto& swish = report_of(reports, "fuse_swish");
  EXPECT_EQ(count(swish.before, OpType::Sigmoid), 1);
  EXPECT_EQ(count(swish.before, OpType::Mul), 2);
  EXPECT_EQ(count(swish.after, OpType::Sigmoid), 0);
  EXPECT_EQ(count(swish.after, OpType::Mul), 1);  // the SE scale stays
  EXPECT_EQ(count(swish.after, OpType::Swish), 1);

  const auto& add = report_of(reports, "fuse_conv_add");
  EXPECT_EQ(count(add.before, OpType::Add), 1);
  EXPECT_EQ(count(add.after, OpType::Add), 0);

  const auto& act = report_of(reports, "fuse_activation");
  for (auto op : {OpType::Relu, OpType::Clip, OpType::HardSwish, OpType::HardSigmoid, OpType::Swish}) {
    EXPECT_EQ(count(act.before, op), 1) << runtime::op_type_name(op);
    EXPECT_EQ(count(act.after, op), 0) << runtime::op_type_name(op);
  }
  EXPECT_EQ(act.applied, 5);

  // The residual conv carries the sum then the relu, in that order.
  for (auto id : g.order()) {
    const auto& n = g.node(id);
    if (n.op != OpType::Conv || n.post_ops.size() != 2) continue;
    EXPECT_EQ(n.post_ops[0].kind, runtime::PostOpKind::Sum);
    EXPECT_EQ(n.post_ops[1].activation.kind, runtime::ActivationKind::Relu);
  }

  // Once the batch is known the chain folds away and Reshape gets a constant shape.
  const auto plan_graph = runtime::specialize(g, {{2, 3, 8, 8}}, {});
  for (auto op : {OpType::Shape, OpType::Gather, OpType::Unsqueeze, OpType::Concat}) {
    EXPECT_EQ(plan_graph.count(op), 0) << runtime::op_type_name(op);
  }
  const auto final_counts = plan_graph.op_counts();
  const std::map<OpType, int> expected{
      {OpType::Conv, 5}, {OpType::GlobalAveragePool, 1}, {OpType::Mul, 1}, {OpType::Reshape, 1}, {OpType::Gemm, 1}};
  EXPECT_EQ(final_counts, expected);
}

std::vector<float> run_with(const ModelBuilder& mb, const runtime::Options& options, std::int64_t batch) {
  auto model = runtime::Model::load(mb.save("passes_numbers.onnx"), options);
  const auto x = random_values(static_cast<std::size_t>(batch * 3 * 64), 77 + static_cast<std::uint32_t>(batch));
  return values_of(model.run({make_f32({batch, 3, 8, 8}, x)})[0]);
}

TEST(RuntimePasses, OptimizedNumbersEqualUnoptimized) {
  const auto mb = pattern_model();
  runtime::Options plain;
  plain.optimize = false;
  const auto names = runtime::pass_names();
  for (std::int64_t batch : {1, 3}) {
    const auto want = run_with(mb, plain, batch);
    {
      SCOPED_TRACE("whole pipeline, batch " + std::to_string(batch));
      EXPECT_TRUE(all_close(run_with(mb, {}, batch), want, 1e-5, 1e-4));
    }
    for (const auto& only : names) {
      SCOPED_TRACE("only " + only + ", batch " + std::to_string(batch));
      runtime::Options o;
      for (const auto& n : names) {
        if (n != only) o.disabled_passes.push_back(n);
      }
      EXPECT_TRUE(all_close(run_with(mb, o, batch), want, 1e-5, 1e-4));
    }
  }
}

TEST(RuntimePasses, DisabledPassLeavesItsPatternAlone) {
  const auto reports = optimize(pattern_model(), nullptr, {"fold_batch_norm", "fuse_swish"});
  EXPECT_THROW(report_of(reports, "fold_batch_norm"), std::runtime_error);
  EXPECT_EQ(count(reports.back().after, OpType::BatchNormalization), 2);
  EXPECT_EQ(count(reports.back().after, OpType::Sigmoid), 1);
}

TEST(RuntimePasses, UnknownPassNameIsAUsageError) {
  runtime::Options o;
  o.disabled_passes = {"fuse_everything"};
  try {
    runtime::Model::load(pattern_model().save("passes.onnx"), o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    EXPECT_NE(std::string(e.what()).find("fuse_everything"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("fold_batch_norm"), std::string::npos) << e.what();
  }
}

// Grouped attention as pt2onnx export writes MaxViT's: x [N, 2, 6, 16] ->
// qkv heads [3, N, 2, 2, 6, 8]; k scaled before its Transpose; a bias per
// head added to the scores. fuse_attention makes the MatMul, Mul, Add,
// Softmax and MatMul one Attention node, and the numbers stay.
ModelBuilder attention_model() {
  ModelBuilder mb;
  mb.input("x", {-1, 2, 6, 16}).output("y");
  mb.initializer("w", {16, 48}, random_values(16 * 48, 31, -0.4f, 0.4f));
  mb.node("MatMul", {"x", "w"}, {"qkv"});
  mb.initializer_i64("heads_shape", {6}, {0, 2, 6, 3, 2, 8});
  mb.node("Reshape", {"qkv", "heads_shape"}, {"qkv_heads"});
  set_ints(mb.node("Transpose", {"qkv_heads"}, {"by_role"}), "perm", {3, 0, 1, 4, 2, 5});
  const char* roles[] = {"q", "k", "v"};
  for (std::int64_t r = 0; r < 3; ++r) {
    mb.initializer_i64(std::string(roles[r]) + "_index", {}, {r});
    set_int(mb.node("Gather", {"by_role", std::string(roles[r]) + "_index"}, {roles[r]}), "axis", 0);
  }
  mb.initializer("scale", {}, {0.35f});
  mb.node("Mul", {"k", "scale"}, {"k_scaled"});
  set_ints(mb.node("Transpose", {"k_scaled"}, {"kt"}), "perm", {0, 1, 2, 4, 3});
  mb.node("MatMul", {"q", "kt"}, {"scores"});
  mb.initializer("bias", {2, 6, 6}, random_values(72, 32, -3.0f, 3.0f));
  mb.node("Add", {"scores", "bias"}, {"biased"});
  set_int(mb.node("Softmax", {"biased"}, {"weights"}), "axis", -1);
  mb.node("MatMul", {"weights", "v"}, {"y"});
  return mb;
}

TEST(RuntimePasses, AttentionBecomesOneNodeWithTheSameNumbers) {
  runtime::Graph g;
  const auto reports = optimize(attention_model(), &g);
  const auto& fused = report_of(reports, "fuse_attention");
  EXPECT_EQ(fused.applied, 1);
  EXPECT_EQ(count(fused.before, OpType::MatMul), 3);
  EXPECT_EQ(count(fused.after, OpType::MatMul), 1);  // the projection
  for (auto op : {OpType::Softmax, OpType::Mul, OpType::Add}) {
    EXPECT_EQ(count(fused.before, op), 1) << runtime::op_type_name(op);
    EXPECT_EQ(count(fused.after, op), 0) << runtime::op_type_name(op);
  }
  EXPECT_EQ(count(fused.after, OpType::Attention), 1);
  for (auto id : g.order()) {
    if (g.node(id).op == OpType::Attention) {
      EXPECT_FLOAT_EQ(g.node(id).attrs.get_float("scale", 0.0f), 0.35f);
    }
  }
  const auto mb = attention_model();
  runtime::Options plain;
  plain.optimize = false;
  runtime::Options unfused;
  unfused.disabled_passes = {"fuse_attention"};
  for (std::int64_t batch : {1, 3}) {
    const auto x = make_f32({batch, 2, 6, 16}, random_values(static_cast<std::size_t>(batch * 192), 33, -2.0f, 2.0f));
    const auto want = values_of(runtime::Model::load(mb.save("attention.onnx"), plain).run({x})[0]);
    for (const auto& options : {runtime::Options{}, unfused}) {
      const auto got = values_of(runtime::Model::load(mb.save("attention.onnx"), options).run({x})[0]);
      EXPECT_TRUE(all_close(got, want, 1e-5, 1e-4)) << "batch " << batch;
    }
  }
}

void add_batch_norm(ModelBuilder& mb, const std::string& name, const std::string& in, const std::string& out,
                    std::int64_t channels, std::uint32_t seed) {
  const auto c = static_cast<std::size_t>(channels);
  mb.initializer(name + "_s", {channels}, random_values(c, seed, 0.5f, 1.5f));
  mb.initializer(name + "_b", {channels}, random_values(c, seed + 1));
  mb.initializer(name + "_m", {channels}, random_values(c, seed + 2));
  mb.initializer(name + "_v", {channels}, random_values(c, seed + 3, 0.1f, 2.0f));
  mb.node("BatchNormalization", {in, name + "_s", name + "_b", name + "_m", name + "_v"}, {out});
}

// DenseNet's dense layers: Concat of the earlier maps, BatchNorm, ReLU, then
// convolutions. Each Concat, BatchNorm (and ReLU) becomes one
// NormalizedConcat, with the numbers of the graph as written.
TEST(RuntimePasses, DenseLayerConcatNormAndReluBecomeOneNode) {
  ModelBuilder mb;
  mb.input("x", {-1, 8, 6, 5}).output("y");
  mb.initializer("wa", {4, 8, 1, 1}, random_values(32, 51));
  mb.initializer("wb", {4, 12, 3, 3}, random_values(432, 52));
  mb.node("Conv", {"x", "wa"}, {"a"});
  set_int(mb.node("Concat", {"x", "a"}, {"xa"}), "axis", 1);
  add_batch_norm(mb, "n1", "xa", "n1y", 12, 53);
  mb.node("Relu", {"n1y"}, {"r1"});
  set_ints(mb.node("Conv", {"r1", "wb"}, {"b"}), "pads", {1, 1, 1, 1});
  set_int(mb.node("Concat", {"x", "a", "b"}, {"xab"}), "axis", -3);
  add_batch_norm(mb, "n2", "xab", "y", 16, 57);  // no ReLU: the block's last normalisation
  runtime::Graph g;
  const auto reports = optimize(mb, &g);
  const auto& fused = report_of(reports, "fuse_concat_norm");
  EXPECT_EQ(fused.applied, 2);
  EXPECT_EQ(count(fused.after, OpType::NormalizedConcat), 2);
  EXPECT_EQ(count(fused.after, OpType::Concat), 0);
  EXPECT_EQ(count(fused.after, OpType::BatchNormalization), 0);
  EXPECT_EQ(count(fused.after, OpType::Relu), 0);
  for (std::int64_t batch : {1, 3}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    const auto x = make_f32({batch, 8, 6, 5}, random_values(static_cast<std::size_t>(batch * 240), 59, -2.0f, 2.0f));
    expect_as_written(mb, "dense_layer.onnx", {x}, 1e-5, 1e-4);
  }
}

// Look-alikes stay as written: a Concat read by something else too, a
// Sigmoid after the BatchNorm, a Concat on another axis.
TEST(RuntimePasses, ConcatNormLookAlikesAreNotFused) {
  ModelBuilder mb;
  mb.input("x", {-1, 4, 5, 5}).output("y1").output("xx").output("y2").output("y3");
  set_int(mb.node("Concat", {"x", "x"}, {"xx"}), "axis", 1);  // also a graph output
  add_batch_norm(mb, "n1", "xx", "n1y", 8, 61);
  mb.node("Relu", {"n1y"}, {"y1"});
  set_int(mb.node("Concat", {"x", "x"}, {"xx2"}), "axis", 1);
  add_batch_norm(mb, "n2", "xx2", "n2y", 8, 65);
  mb.node("Sigmoid", {"n2y"}, {"y2"});
  set_int(mb.node("Concat", {"x", "x"}, {"xx3"}), "axis", 2);  // joined rows, not channels
  add_batch_norm(mb, "n3", "xx3", "y3", 4, 69);
  runtime::Graph g;
  optimize(mb, &g);
  EXPECT_EQ(g.count(OpType::NormalizedConcat), 0);
  EXPECT_EQ(g.count(OpType::Concat), 3);
  expect_as_written(mb, "concat_norm_alike.onnx", {make_f32({2, 4, 5, 5}, random_values(200, 71, -2.0f, 2.0f))}, 1e-5,
                    1e-4);
}

// A softmax between two Linear layers is not attention: its operands are
// weights, and the pattern stays as written.
TEST(RuntimePasses, SoftmaxBetweenLinearLayersIsNotAttention) {
  ModelBuilder mb;
  mb.input("x", {-1, 4, 8}).output("y");
  mb.initializer("wk", {8, 4}, random_values(32, 41));
  mb.initializer("wv", {4, 8}, random_values(32, 42));
  mb.node("MatMul", {"x", "wk"}, {"scores"});
  set_int(mb.node("Softmax", {"scores"}, {"weights"}), "axis", -1);
  mb.node("MatMul", {"weights", "wv"}, {"y"});
  runtime::Graph g;
  optimize(mb, &g);
  EXPECT_EQ(g.count(OpType::Attention), 0);
  EXPECT_EQ(g.count(OpType::Softmax), 1);
  expect_as_written(mb, "linear_softmax.onnx", {make_f32({2, 4, 8}, random_values(64, 43, -2.0f, 2.0f))}, 1e-6, 1e-5);
}

// Patterns that look fusable but are not: a second reader, a broadcast add,
// a graph output in the middle.
TEST(RuntimePasses, UnsafePatternsAreNotRewritten) {
  ModelBuilder mb;
  mb.input("x", {-1, 4, 5, 5}).output("y").output("c0").output("s1");
  mb.initializer("w", {4, 4, 1, 1}, random_values(16, 1));
  mb.initializer("bias", {1, 4, 1, 1}, random_values(4, 2));
  for (const auto& name : {"scale", "b", "mean"}) mb.initializer(name, {4}, random_values(4, 3));
  mb.initializer("var", {4}, random_values(4, 4, 0.5f, 1.0f));
  mb.node("Conv", {"x", "w"}, {"c0"});  // a graph output: no activation or BN may fuse into it
  mb.node("Relu", {"c0"}, {"r0"});
  mb.node("Conv", {"r0", "w"}, {"c1"});
  mb.node("BatchNormalization", {"c1", "scale", "b", "mean", "var"}, {"bn1"});
  mb.node("Sigmoid", {"c1"}, {"s1"});     // second reader of c1: BN cannot fold
  mb.node("Mul", {"bn1", "s1"}, {"m1"});  // not x * sigmoid(x)
  mb.node("Conv", {"m1", "w"}, {"c2"});
  mb.node("Add", {"c2", "bias"}, {"y"});  // broadcast: not a sum post-op
  runtime::Graph g;
  const auto reports = optimize(mb, &g);
  EXPECT_EQ(g.count(OpType::Relu), 1);
  EXPECT_EQ(g.count(OpType::BatchNormalization), 1);
  EXPECT_EQ(g.count(OpType::Sigmoid), 1);
  EXPECT_EQ(g.count(OpType::Mul), 1);
  EXPECT_EQ(g.count(OpType::Add), 1);
  for (std::int64_t batch : {1, 2}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    const auto x = make_f32({batch, 4, 5, 5}, random_values(static_cast<std::size_t>(batch * 100), 9));
    expect_as_written(mb, "unsafe.onnx", {x}, 1e-6, 1e-5);
  }
}

}  // namespace
}  // namespace pt2onnx::testing

namespace pt2onnx::testing {
namespace {

// A chain of Identity nodes as a hostile (or generated) model might hold: the
// passes must remove them all in time linear in the chain (a quadratic
// replace_uses took 20 s for 100,000). The test checks the result; bench
// scripts time it (docs/reliability.md).
TEST(RuntimePasses, LongIdentityChainCollapses) {
  constexpr int kNodes = 200'000;
  runtime::Graph g;
  g.opset = 17;
  runtime::Value in;
  in.name = "x";
  in.dims = runtime::dims_from_values({1, 8});
  auto previous = g.add_value(in);
  g.inputs().push_back(previous);
  for (int i = 0; i < kNodes; ++i) {
    runtime::Value v;
    v.name = fmt::format("v{}", i);
    const auto out = g.add_value(v);
    runtime::Node n;
    n.op = OpType::Identity;
    n.name = fmt::format("n{}", i);
    n.inputs = {previous};
    n.outputs = {out};
    g.add_node(std::move(n));
    previous = out;
  }
  g.outputs().push_back(previous);
  runtime::infer_shapes(g);
  const auto reports = runtime::run_passes(g, {});
  EXPECT_EQ(report_of(reports, "remove_identity").applied, kNodes);
  EXPECT_TRUE(g.order().empty());
  EXPECT_EQ(g.outputs().at(0), g.inputs().at(0));
}

// The reader index behind consumers() and replace_uses() follows every edit
// made through Graph; an input changed behind its back is caught by check().
TEST(RuntimePasses, ReaderIndexFollowsEditsAndCatchesStaleOnes) {
  runtime::Graph g;
  runtime::Value v;
  v.name = "a";
  const auto a = g.add_value(v);
  v.name = "b";
  const auto b = g.add_value(v);
  v.name = "c";
  const auto c = g.add_value(v);
  g.inputs() = {a, b};
  runtime::Node n;
  n.op = OpType::Add;
  n.inputs = {a, a};
  n.outputs = {c};
  const auto add = g.add_node(n);
  g.outputs().push_back(c);
  EXPECT_EQ(g.consumers(a), std::vector<runtime::NodeId>{add});
  g.set_input(add, 1, b);
  EXPECT_EQ(g.consumers(b), std::vector<runtime::NodeId>{add});
  g.replace_uses(a, b);
  EXPECT_TRUE(g.consumers(a).empty());
  EXPECT_EQ(g.node(add).inputs, (std::vector<runtime::ValueId>{b, b}));
  EXPECT_NO_THROW(g.check());
  g.node(add).inputs[0] = a;  // behind the index's back
  EXPECT_THROW(g.check(), Error);
}

// Steps over a few thousand elements run without a team (no parallel region
// to start), big ones and every convolution with it.
TEST(RuntimePlanner, TinyStepsRunWithoutATeam) {
  ModelBuilder mb;
  mb.input("x", {1, 3, 64, 64}).output("y");
  mb.initializer("w", {8, 3, 3, 3}, random_values(216, 7));
  set_ints(mb.node("Conv", {"x", "w"}, {"c"}), "pads", {1, 1, 1, 1});  // a convolution: the team
  mb.node("Sigmoid", {"c"}, {"s"});                                    // 2 x 32,768 elements: the team
  auto& pool = mb.node("MaxPool", {"s"}, {"p"});                       // 32,768 + 2,048: the team
  set_ints(pool, "kernel_shape", {4, 4});
  set_ints(pool, "strides", {4, 4});
  mb.node("GlobalAveragePool", {"p"}, {"g"});  // 2,048 + 8 elements: alone
  mb.node("Relu", {"g"}, {"y"});               // 8 + 8: alone
  const auto compiled = compile_file(mb.save("tiny_steps.onnx"), {{1, 3, 64, 64}}, false);
  std::map<std::string, bool> alone;
  for (const auto& step : compiled.plan->steps) alone[step.label] = step.one_thread;
  ASSERT_EQ(alone.size(), 5u);
  for (const auto& [label, one] : alone) {
    const bool tiny = label.find("Relu") != std::string::npos || label.find("GlobalAveragePool") != std::string::npos;
    EXPECT_EQ(one, tiny) << label;
  }
}

}  // namespace
}  // namespace pt2onnx::testing
