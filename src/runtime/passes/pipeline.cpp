#include "runtime/passes/pipeline.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runtime/passes/pass.h"
#include "runtime/shape_inference.h"

namespace pt2onnx::runtime {
namespace {

// A pass that keeps finding work after this many sweeps is looping.
constexpr int kMaxSweeps = 16;

// The pipeline, in order.
std::vector<std::unique_ptr<Pass>> make_pipeline() {
  std::vector<std::unique_ptr<Pass>> passes;
  // First, so that every later pattern sees through the pass-through nodes.
  passes.push_back(make_remove_identity());
  // Shape chains become constants (and Reshape gets a constant shape) before
  // anything looks at them; at plan time this is where the batch is folded in.
  passes.push_back(make_fold_constants());
  // BatchNormalization into its Conv, before any post-op is attached to the
  // Conv: the BN must apply to the raw convolution result.
  passes.push_back(make_fold_batch_norm());
  // x * Sigmoid(x) -> Swish(x), so that the Swish can fuse into the Conv next.
  passes.push_back(make_fuse_swish());
  // The erf GELU's five nodes -> Gelu(x), likewise fusable next.
  passes.push_back(make_fuse_gelu());
  // Attention's MatMul, scale, bias, Softmax and MatMul -> Attention, whose
  // kernel reads the transposed operands where they lie.
  passes.push_back(make_fuse_attention());
  // A Linear's Add of its bias into the MatMul, so that the activation after
  // the Add (a GELU) fuses into the MatMul too.
  passes.push_back(make_fuse_matmul_bias());
  // Residual adds before activations: ResNet's Add -> Relu then becomes
  // Conv(post-ops: sum, relu), applied in that order.
  passes.push_back(make_fuse_conv_add());
  // Activations into their producers, last: everything they attach to is final.
  passes.push_back(make_fuse_activation());
  // DenseNet's Concat, BatchNormalization and ReLU -> NormalizedConcat, after
  // the ReLU has become the BatchNormalization's post-op.
  passes.push_back(make_fuse_concat_norm());
  return passes;
}

void tidy(Graph& g) {
  remove_dead_nodes(g);
  g.sort_topologically();
  infer_shapes(g);
  g.check();
}

}  // namespace

std::vector<std::string> pass_names() {
  std::vector<std::string> names;
  for (const auto& p : make_pipeline()) names.emplace_back(p->name());
  return names;
}

void check_pass_names(const std::vector<std::string>& names) {
  const auto known = pass_names();
  for (const auto& n : names) {
    if (std::find(known.begin(), known.end(), n) == known.end()) {
      throw_error(ErrorKind::Usage, fmt::format("unknown pass '{}' (passes: {})", n, fmt::join(known, ", ")));
    }
  }
}

void remove_dead_nodes(Graph& g) {
  // Backwards, so that a chain of dead nodes goes in one sweep.
  std::set<ValueId> read(g.outputs().begin(), g.outputs().end());
  const auto order = g.order();
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const auto& n = g.node(*it);
    const bool used = std::any_of(n.outputs.begin(), n.outputs.end(), [&](ValueId v) { return read.count(v) != 0; });
    if (!used) {
      g.remove_node(*it);
      continue;
    }
    read.insert(n.inputs.begin(), n.inputs.end());
  }
}

std::vector<PassReport> run_passes(Graph& g, const std::vector<std::string>& disabled) {
  std::vector<PassReport> reports;
  tidy(g);
  for (const auto& pass : make_pipeline()) {
    const std::string name(pass->name());
    if (std::find(disabled.begin(), disabled.end(), name) != disabled.end()) continue;
    PassReport report;
    report.name = name;
    report.before = g.op_counts();
    with_error_context(fmt::format("pass {}", name), [&] {
      for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
        int applied = 0;
        const auto order = g.order();
        for (auto id : order) {
          if (!g.node(id).alive) continue;
          if (pass->needs_fresh_shapes()) infer_node_shapes(g, id);
          if (!pass->match(g, id)) continue;
          pass->apply(g, id);
          ++applied;
        }
        tidy(g);
        report.applied += applied;
        if (applied == 0) return;
      }
      throw_error(ErrorKind::Internal, "did not reach a fixed point");
    });
    report.after = g.op_counts();
    reports.push_back(std::move(report));
  }
  return reports;
}

}  // namespace pt2onnx::runtime
