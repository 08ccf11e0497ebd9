#include "runtime/support.h"

#include <fmt/format.h>

#include "runtime/op_def.h"

namespace pt2onnx::runtime {

std::vector<bool> static_values(const Graph& g) {
  std::vector<bool> known(g.value_count(), false);
  for (std::size_t v = 0; v < g.value_count(); ++v) known[v] = g.is_constant(static_cast<ValueId>(v));
  for (auto id : g.order()) {
    const auto& n = g.node(id);
    bool all = op_def(n.op).reads_dims_only;
    if (!all && is_shape_op(n.op)) {
      all = true;
      for (auto in : n.inputs) all = all && (in == kNoValue || known[static_cast<std::size_t>(in)]);
    }
    if (all) {
      for (auto out : n.outputs) known[static_cast<std::size_t>(out)] = true;
    }
  }
  return known;
}

void check_kernel_inputs(const Graph& g, const Node& n, const std::vector<bool>& known) {
  const auto parameters = op_def(n.op).parameter_inputs;
  for (std::size_t i = 0; i < n.inputs.size(); ++i) {
    const auto in = n.inputs[i];
    if (in == kNoValue) continue;
    if (i >= parameters) {
      if (!known[static_cast<std::size_t>(in)]) {
        throw_error(ErrorKind::Unsupported,
                    fmt::format("input '{}' must be a constant or computed from shapes", g.value(in).name));
      }
      continue;
    }
    if (g.value(in).dtype != DType::Float32) {
      throw_error(ErrorKind::Unsupported, fmt::format("input '{}' is {}; the engine computes in float32",
                                                      g.value(in).name, dtype_name(g.value(in).dtype)));
    }
  }
}

bool output_in_use(const Graph& g, const Node& n, std::size_t i) {
  return n.outputs.size() > i && (!g.consumers(n.outputs[i]).empty() || g.is_graph_output(n.outputs[i]));
}

void check_supported(const Graph& g) {
  const auto known = static_values(g);
  for (auto id : g.order()) {
    const auto& n = g.node(id);
    with_error_context(g.describe(id), [&] {
      if (!n.outputs.empty() && known[static_cast<std::size_t>(n.outputs[0])]) return;  // evaluated at plan time
      const auto& def = op_def(n.op);
      if (!def.kernel) {
        throw_error(ErrorKind::Unsupported,
                    fmt::format("{} is supported only on shapes and constants, not on a computed "
                                "tensor",
                                def.name));
      }
      if (def.support) {
        def.support(g, n, known);
      } else {
        check_kernel_inputs(g, n, known);
      }
    });
  }
  for (auto out : g.outputs()) {
    if (g.value(out).dtype != DType::Float32) {
      throw_error(ErrorKind::Unsupported, fmt::format("output '{}' is {}; the engine returns float32",
                                                      g.value(out).name, dtype_name(g.value(out).dtype)));
    }
  }
}

}  // namespace pt2onnx::runtime
