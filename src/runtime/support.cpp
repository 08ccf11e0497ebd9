#include "runtime/support.h"

#include <fmt/format.h>

#include "runtime/op_util.h"
#include "runtime/passes/pass.h"

namespace pt2onnx::runtime {
namespace {

bool has_kernel(OpType op) {
  switch (op) {
    case OpType::Shape:
    case OpType::Cast:
      return false;
    default:
      return true;
  }
}

// Inputs of a kernel that are not tensor data (they configure the op).
bool is_parameter_input(const Node& n, std::size_t i) {
  switch (n.op) {
    case OpType::Gather:
    case OpType::Reshape:
    case OpType::Squeeze:
    case OpType::Unsqueeze:
    case OpType::ReduceMean:
      return i == 1;
    case OpType::Clip:
    case OpType::Pad:
    case OpType::Dropout:
    case OpType::Slice:
      return i >= 1;
    default:
      return false;
  }
}

}  // namespace

std::vector<bool> static_values(const Graph& g) {
  std::vector<bool> known(g.value_count(), false);
  for (std::size_t v = 0; v < g.value_count(); ++v) known[v] = g.is_constant(static_cast<ValueId>(v));
  for (auto id : g.order()) {
    const auto& n = g.node(id);
    bool all = n.op == OpType::Shape;
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

void check_supported(const Graph& g) {
  const auto known = static_values(g);
  for (auto id : g.order()) {
    const auto& n = g.node(id);
    with_error_context(g.describe(id), [&] {
      if (!n.outputs.empty() && known[static_cast<std::size_t>(n.outputs[0])]) return;  // evaluated at plan time
      if (!has_kernel(n.op)) {
        throw_error(ErrorKind::Unsupported,
                    fmt::format("{} is supported only on shapes and constants, not on a computed "
                                "tensor",
                                op_type_name(n.op)));
      }
      // A computed tensor picked from by indices known before the run (x[:, 0]).
      if (n.op == OpType::Gather && n.inputs.size() > 1 && !known[static_cast<std::size_t>(n.inputs[1])]) {
        throw_error(ErrorKind::Unsupported,
                    fmt::format("Gather of a computed tensor needs indices known before the run; '{}' is "
                                "computed",
                                g.value(n.inputs[1]).name));
      }
      for (std::size_t i = 0; i < n.inputs.size(); ++i) {
        const auto in = n.inputs[i];
        if (in == kNoValue) continue;
        if (is_parameter_input(n, i)) {
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
      if (n.op == OpType::Clip && !activation_of(g, n)) {
        throw_error(ErrorKind::Unsupported, "Clip bounds must be constants");
      }
      if (n.op == OpType::MaxPool && n.outputs.size() > 1 &&
          (!g.consumers(n.outputs[1]).empty() || g.is_graph_output(n.outputs[1]))) {
        throw_error(ErrorKind::Unsupported, "the Indices output of MaxPool is not supported");
      }
      if (n.op == OpType::Dropout && n.outputs.size() > 1 &&
          (!g.consumers(n.outputs[1]).empty() || g.is_graph_output(n.outputs[1]))) {
        throw_error(ErrorKind::Unsupported, "the mask output of Dropout is not supported");
      }
      if (n.op == OpType::Dropout && n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
        const auto& t = g.value(n.inputs[2]).constant;
        if (!t || t->numel() != 1 || t->element_as_double(0) != 0.0) {
          throw_error(ErrorKind::Unsupported, "training_mode must be a constant false");
        }
      }
      if (n.op == OpType::LayerNormalization) {
        for (std::size_t i = 1; i < 3; ++i) {
          if (n.outputs.size() > i && (!g.consumers(n.outputs[i]).empty() || g.is_graph_output(n.outputs[i]))) {
            throw_error(ErrorKind::Unsupported, fmt::format("the {} output of LayerNormalization is not supported",
                                                            i == 1 ? "Mean" : "InvStdDev"));
          }
          const auto p = optional_input(n, i);
          if (p != kNoValue && !known[static_cast<std::size_t>(p)]) {
            throw_error(ErrorKind::Unsupported,
                        fmt::format("{} '{}' must be a constant", i == 1 ? "Scale" : "B", g.value(p).name));
          }
        }
        // stash_type 1: mean and variance in float32, which is what oneDNN does.
        if (const auto stash = n.attrs.get_int("stash_type", 1); stash != 1) {
          throw_error(ErrorKind::Unsupported,
                      fmt::format("stash_type {} is not supported (only 1: statistics in float32)", stash));
        }
      }
      if (n.op == OpType::BatchNormalization) {
        for (std::size_t i = 1; i < n.inputs.size(); ++i) {
          if (!known[static_cast<std::size_t>(n.inputs[i])]) {
            throw_error(ErrorKind::Unsupported,
                        fmt::format("parameter '{}' must be a constant", g.value(n.inputs[i]).name));
          }
        }
      }
      // Constants, possibly behind an Identity that is folded at plan time.
      if (n.op == OpType::Conv && !known[static_cast<std::size_t>(n.inputs[1])]) {
        throw_error(ErrorKind::Unsupported, "the weight must be a constant");
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
