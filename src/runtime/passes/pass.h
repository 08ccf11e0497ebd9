// A graph pass: a name, a cheap match at one anchor node, and an apply step
// that rewrites the pattern found there. Passes run in the one ordered list
// of pipeline.cpp, which re-sorts, re-infers shapes and checks the graph
// after each.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "runtime/graph.h"

namespace pt2onnx::runtime {

class Pass {
 public:
  Pass() = default;
  Pass(const Pass&) = delete;
  Pass& operator=(const Pass&) = delete;
  virtual ~Pass() = default;

  [[nodiscard]] virtual std::string_view name() const = 0;
  // True when the pattern anchored at node `id` can be rewritten. Must not
  // change the graph; may look at neighbours, shapes and constants.
  [[nodiscard]] virtual bool match(const Graph& g, NodeId id) const = 0;
  // Rewrites the matched pattern. May add nodes and values and remove nodes;
  // leaves re-sorting and shape inference to the pipeline.
  virtual void apply(Graph& g, NodeId id) const = 0;
  // True: the pipeline re-infers each node's output shapes just before
  // matching it, so that a rewrite early in a sweep makes shapes known further
  // on in the same sweep (a chain of folds through many Reshapes then takes
  // one sweep, not one per Reshape).
  [[nodiscard]] virtual bool needs_fresh_shapes() const { return false; }
};

// One factory per pass (passes/*.cpp), listed in pipeline.cpp.
std::unique_ptr<Pass> make_remove_identity();
std::unique_ptr<Pass> make_fold_constants();
std::unique_ptr<Pass> make_fold_batch_norm();
std::unique_ptr<Pass> make_fuse_swish();
std::unique_ptr<Pass> make_fuse_gelu();
std::unique_ptr<Pass> make_fuse_attention();
std::unique_ptr<Pass> make_fuse_matmul_bias();
std::unique_ptr<Pass> make_fuse_conv_add();
std::unique_ptr<Pass> make_fuse_activation();
std::unique_ptr<Pass> make_fuse_concat_norm();

// Shared tests used by several passes.
// The node producing v when v has exactly one reader (that node) and is not
// a graph output, so the producer can absorb the reader; kNoNode otherwise.
NodeId sole_producer(const Graph& g, ValueId v);
// That producer when it is an `op` node with one output and no post-ops;
// nullptr otherwise.
const Node* sole_producer_node(const Graph& g, ValueId v, OpType op);
// A BatchNormalization with one output whose scale, B, mean and variance are
// float32 constants (what fold_batch_norm and fuse_concat_norm rewrite).
bool is_constant_batch_norm(const Graph& g, const Node& n);
// The Activation a standalone activation node computes; nullopt when it
// cannot be expressed as one (Clip with computed bounds).
std::optional<Activation> activation_of(const Graph& g, const Node& n);

}  // namespace pt2onnx::runtime
