#include "runtime/planner.h"

#include <fmt/format.h>

#include "runtime/constant_eval.h"
#include "runtime/kernels/kernels.h"
#include "runtime/passes/pipeline.h"
#include "runtime/shape_inference.h"

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
    builder.begin_node(id, position++);
    const auto build = kernel_for(n.op);
    with_error_context(g.describe(id), [&] {
      if (!build) throw_error(ErrorKind::Unsupported, "runs only on shapes and constants, not on a computed tensor");
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
