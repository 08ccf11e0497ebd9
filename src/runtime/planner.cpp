#include "runtime/planner.h"

#include <functional>
#include <optional>

#include <fmt/format.h>

#include "runtime/constant_eval.h"
#include "runtime/kernels/kernels.h"
#include "runtime/op_def.h"
#include "runtime/op_util.h"
#include "runtime/passes/pipeline.h"
#include "runtime/shape_inference.h"
#include "runtime/threads.h"

namespace pt2onnx::runtime {
namespace {

// Evaluates every shape op whose inputs are known, in order, so that the
// graph runs even with the passes switched off.
void fold_shape_ops(Graph& g) {
  for (auto id : std::vector<NodeId>(g.order())) {
    auto& n = g.node(id);
    if (!can_evaluate(g, n)) continue;
    auto values = evaluate(g, n);
    const auto outputs = n.outputs;
    g.remove_node(id);
    for (std::size_t i = 0; i < outputs.size() && i < values.size(); ++i) {
      g.value(outputs[i]).constant = std::make_shared<const Tensor>(std::move(values[i]));
    }
    infer_shapes(g);
  }
}

// Elements a step may touch and still run without a team. Starting a team
// and meeting at its barrier costs some microseconds; a step over at most
// this many elements (64 KiB of float32 in and out) takes about as long on
// one thread. A chain of thousands of such steps would otherwise spend its
// time starting teams. Convolutions and matrix products do more work per
// element than their sizes say, so they always get the team.
constexpr std::int64_t kTinyStepElements = 16384;

// Elements of a computed value; nullopt when its shape is not fully known (an
// unused optional output), and such a node keeps the team.
std::optional<std::int64_t> elements(const Graph& g, ValueId v) {
  if (v == kNoValue || g.is_constant(v)) return 0;
  const auto& dims = g.value(v).dims;
  if (!dims || !all_known(*dims)) return std::nullopt;
  std::int64_t n = 1;
  for (const auto d : known_values(*dims)) {
    if (d > 2 * kTinyStepElements) return d;  // no overflow from large dims
    n *= d;
    if (n > 2 * kTinyStepElements) return n;
  }
  return n;
}

bool is_tiny(const Graph& g, const Node& n) {
  if (n.op == OpType::Conv || n.op == OpType::Gemm || n.op == OpType::MatMul) return false;
  std::int64_t total = 0;
  for (const auto& values : {std::cref(n.inputs), std::cref(n.outputs)}) {
    for (const auto v : values.get()) {
      const auto count = elements(g, v);
      if (!count) return false;
      total += *count;
    }
  }
  return total <= 2 * kTinyStepElements;
}

}  // namespace

Graph specialize(const Graph& graph, const std::vector<Shape>& input_shapes, const PlanOptions& options) {
  Graph g = graph;
  for (std::size_t i = 0; i < g.inputs().size(); ++i)
    g.value(g.inputs()[i]).dims = dims_from_values(input_shapes.at(i));
  infer_shapes(g);
  if (options.optimize) run_passes(g, options.disabled_passes);
  fold_shape_ops(g);
  for (auto id : g.order()) {
    for (auto out : g.node(id).outputs) {
      const auto& d = g.value(out).dims;
      if (d && !all_known(*d)) {
        throw_error(ErrorKind::Unsupported, fmt::format("{}: the shape of '{}' is still unknown ({}) with all inputs "
                                                        "known",
                                                        g.describe(id), g.value(out).name, dims_to_string(*d)));
      }
    }
  }
  return g;
}

std::shared_ptr<Plan> compile_plan(const Graph& graph, const std::vector<Shape>& input_shapes,
                                   const PlanOptions& options, const dnnl::engine& engine, WeightCache& weights) {
  const Graph g = specialize(graph, input_shapes, options);
  PlanBuilder builder(g, engine, weights);
  int position = 0;
  for (auto id : g.order()) {
    const auto& n = g.node(id);
    const bool tiny = is_tiny(g, n);
    builder.begin_node(id, position++, tiny);
    const auto build = op_def(n.op).kernel;
    with_error_context(g.describe(id), [&] {
      if (!build) throw_error(ErrorKind::Unsupported, "runs only on shapes and constants, not on a computed tensor");
      // oneDNN splits a primitive's work for the team size current when it is created.
      const ScopedThreadCount team(tiny ? 1 : current_thread_count());
      try {
        build(builder, n);
      } catch (const dnnl::error& e) {
        throw_error(ErrorKind::Unsupported, fmt::format("oneDNN cannot run it ({})", e.what()));
      }
    });
  }
  try {
    return builder.finish();
  } catch (const dnnl::error& e) {
    throw_error(ErrorKind::Internal, fmt::format("preparing the outputs: {}", e.what()));
  }
}

}  // namespace pt2onnx::runtime
