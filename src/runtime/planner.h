// Compiles the (load-time optimized) graph into a Plan for concrete input
// shapes: binds the shapes, folds the shape computations, runs the pass
// pipeline again now that every dim is known, and builds each node's kernel.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/graph.h"
#include "runtime/plan.h"
#include "runtime/weight_cache.h"

namespace pt2onnx::runtime {

struct PlanOptions {
  bool optimize = true;
  std::vector<std::string> disabled_passes;
};

// `graph` is not modified. Throws Error naming the node whose kernel failed.
std::shared_ptr<Plan> compile_plan(const Graph& graph, const std::vector<Shape>& input_shapes,
                                   const PlanOptions& options, const dnnl::engine& engine, WeightCache& weights);

// The graph bound to concrete input shapes, shapes inferred, shape ops folded
// and (when optimizing) passes run: what compile_plan builds kernels for.
Graph specialize(const Graph& graph, const std::vector<Shape>& input_shapes, const PlanOptions& options);

}  // namespace pt2onnx::runtime
