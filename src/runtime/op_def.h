// One record per engine operator: everything the engine's generic code needs
// to know of it. The records live with their rules in one file per family
// (ops/<family>.h lists them, ops/<family>.cpp holds the rules); op_table.cpp
// gathers the families into one table indexed by OpType, and checks at compile
// time that every OpType has exactly one record.
#pragma once

#include <cstddef>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include "runtime/graph.h"

namespace pt2onnx::runtime {

class PlanBuilder;

// How an operator treats the rows of a batch, for batch_split.cpp's
// one-image-per-thread mode.
enum class BatchRows {
  // Some output row reads other rows (or the op is never run per image).
  Mixed,
  // Row i of the outputs from row i of the inputs, whatever their leading dims.
  KeptApart,
  // Kept apart when every computed float32 input is led by the batch too.
  KeptApartIfInputsBatched,
};

// What a shape rule finds for one output of a node.
struct OutputInfo {
  DType dtype = DType::Float32;
  MaybeDims dims;
};

// The output dtypes and dims of a node whose inputs' are up to date
// (shape_inference.cpp); throws Error(BadInput) naming what does not fit.
using ShapeRule = std::vector<OutputInfo> (*)(const Graph& g, const Node& n);
// Adds the node's plan steps (kernels/*.cpp).
using KernelBuilder = void (*)(PlanBuilder& b, const Node& n);
// The node's treatment of batch rows; its inputs' dims are known to the rank.
using BatchRowsRule = BatchRows (*)(const Graph& g, const Node& n);
// The values of the node's outputs from constant inputs (constant_eval.cpp).
using ConstantRule = std::vector<Tensor> (*)(const Graph& g, const Node& n);
// Throws Error(Unsupported) for a node the kernel cannot run; `known` says per
// value whether it is computable before the run (support.cpp).
using SupportRule = void (*)(const Graph& g, const Node& n, const std::vector<bool>& known);
// The Activation an activation node computes, for fusion as a post-op;
// nullopt when it cannot be one (Clip with computed bounds).
using ActivationRule = std::optional<Activation> (*)(const Graph& g, const Node& n);

inline constexpr std::size_t kNoParameterInputs = std::numeric_limits<std::size_t>::max();

struct OpDef {
  OpType op = OpType::Count;
  // The ONNX op_type in the default domain, or the engine's own name.
  std::string_view name;
  // false: internal to the engine, made by a pass; never read from a file.
  bool onnx = true;
  ShapeRule shape = nullptr;
  // nullptr: evaluated on shapes and constants only, never run as a kernel.
  KernelBuilder kernel = nullptr;
  BatchRowsRule batch_rows = nullptr;
  // Non-null for a shape op: evaluated once its inputs are known.
  ConstantRule evaluate = nullptr;
  // Its output depends on its input's dims alone (Shape), not the values.
  bool reads_dims_only = false;
  // Inputs from this index on configure the op (axes, shape, bounds, pads):
  // known before the run, any dtype. The others are float32 data.
  std::size_t parameter_inputs = kNoParameterInputs;
  // The checks of a node that runs as a kernel. nullptr: the common checks
  // alone (check_kernel_inputs, support.h); a rule of the op's own calls them
  // beside its limits.
  SupportRule support = nullptr;
  // Non-null for an activation that producers can take as a post-op.
  ActivationRule activation = nullptr;
  // Add, Sub, Mul, Div: numpy broadcasting, one oneDNN binary primitive.
  bool elementwise_binary = false;
  // Its kernel applies activation post-ops (fuse_activation folds them in).
  bool takes_activation = false;
};

// The record of op; op must be a real operator (not OpType::Count).
const OpDef& op_def(OpType op);

// Rules that many operators share.
inline BatchRows rows_kept_apart_if_inputs_batched(const Graph& /*g*/, const Node& /*n*/) {
  return BatchRows::KeptApartIfInputsBatched;
}
inline BatchRows rows_mixed(const Graph& /*g*/, const Node& /*n*/) { return BatchRows::Mixed; }

}  // namespace pt2onnx::runtime
