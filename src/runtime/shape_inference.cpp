#include "runtime/shape_inference.h"

#include <fmt/format.h>

#include "runtime/op_def.h"

namespace pt2onnx::runtime {
namespace {

// No tensor of a CNN classifier comes near this many elements (8 GiB of
// float32); a file asking for more is hostile or broken, and is refused
// before anything is allocated for it.
constexpr std::int64_t kMaxElements = std::int64_t{1} << 31;

void check_size(const Dims& dims) {
  std::int64_t n = 1;
  for (const auto& d : dims) {
    if (!d.is_known()) continue;
    if (d.value() != 0 && n > kMaxElements / d.value()) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("the output {} would have more than {} elements", dims_to_string(dims), kMaxElements));
    }
    n *= d.value();
  }
}

}  // namespace

void expect_arity(const Node& n, std::size_t min_inputs, std::size_t max_inputs) {
  // Operands of sum and bias post-ops sit after the operator's own inputs.
  std::size_t given = n.inputs.size();
  for (const auto& p : n.post_ops) given -= p.kind != PostOpKind::Activation ? 1 : 0;
  // Trailing omitted optional inputs do not count.
  while (given > 0 && n.inputs[given - 1] == kNoValue) --given;
  if (given < min_inputs || given > max_inputs) {
    throw_error(ErrorKind::BadInput,
                min_inputs == max_inputs
                    ? fmt::format("has {} inputs, expected {}", given, min_inputs)
                    : fmt::format("has {} inputs, expected {} to {}", given, min_inputs, max_inputs));
  }
  for (std::size_t i = 0; i < min_inputs; ++i) {
    if (n.inputs[i] == kNoValue) throw_error(ErrorKind::BadInput, fmt::format("required input {} is missing", i));
  }
}

const MaybeDims& input_dims(const Graph& g, const Node& n, std::size_t i) { return g.value(n.inputs.at(i)).dims; }

DType input_dtype(const Graph& g, const Node& n, std::size_t i) { return g.value(n.inputs.at(i)).dtype; }

std::vector<OutputInfo> same_as_input(const Graph& g, const Node& n) {
  return {{g.value(n.inputs[0]).dtype, g.value(n.inputs[0]).dims}};
}

void infer_node_shapes(Graph& g, NodeId id) {
  auto& n = g.node(id);
  with_error_context(g.describe(id), [&] {
    if (n.outputs.empty()) throw_error(ErrorKind::BadInput, "has no outputs");
    auto outs = op_def(n.op).shape(g, n);
    // Outputs past those the rule knows (e.g. MaxPool's Indices) stay unknown.
    for (std::size_t i = 0; i < n.outputs.size(); ++i) {
      auto& v = g.value(n.outputs[i]);
      if (i < outs.size()) {
        if (outs[i].dims) check_size(*outs[i].dims);
        v.dtype = outs[i].dtype;
        v.dims = std::move(outs[i].dims);
      } else {
        v.dims.reset();
      }
    }
  });
}

void infer_shapes(Graph& g) {
  for (auto id : g.order()) infer_node_shapes(g, id);
}

}  // namespace pt2onnx::runtime
