#include <algorithm>
#include <limits>

#include "runtime/op_util.h"
#include "runtime/passes/pass.h"

namespace pt2onnx::runtime {

NodeId sole_producer(const Graph& g, ValueId v) {
  if (v == kNoValue || g.is_graph_output(v)) return kNoNode;
  const auto producer = g.value(v).producer;
  if (producer == kNoNode) return kNoNode;
  const auto readers = g.consumers(v);
  if (readers.size() != 1) return kNoNode;
  // Read once: a node that uses v twice (x * x) cannot take it over either.
  const auto& reader = g.node(readers[0]);
  if (std::count(reader.inputs.begin(), reader.inputs.end(), v) != 1) return kNoNode;
  return producer;
}

std::optional<Activation> activation_of(const Graph& g, const Node& n) {
  Activation a;
  switch (n.op) {
    case OpType::Relu:
      a.kind = ActivationKind::Relu;
      return a;
    case OpType::Sigmoid:
      a.kind = ActivationKind::Sigmoid;
      return a;
    case OpType::HardSwish:
      a.kind = ActivationKind::HardSwish;
      return a;
    case OpType::Swish:
      a.kind = ActivationKind::Swish;
      return a;
    case OpType::Gelu:
      a.kind = ActivationKind::Gelu;
      return a;
    case OpType::HardSigmoid:
      a.kind = ActivationKind::HardSigmoid;
      a.alpha = n.attrs.get_float("alpha", 0.2f);
      a.beta = n.attrs.get_float("beta", 0.5f);
      return a;
    case OpType::Clip: {
      a.kind = ActivationKind::Clip;
      a.alpha = std::numeric_limits<float>::lowest();
      a.beta = std::numeric_limits<float>::max();
      if (g.opset < 11) {
        a.alpha = n.attrs.get_float("min", a.alpha);
        a.beta = n.attrs.get_float("max", a.beta);
        return a;
      }
      // Opset 11 made the bounds inputs; an omitted one is unbounded.
      const auto lo = optional_input(n, 1), hi = optional_input(n, 2);
      if (lo != kNoValue) {
        auto v = constant_scalar(g, lo);
        if (!v) return std::nullopt;
        a.alpha = *v;
      }
      if (hi != kNoValue) {
        auto v = constant_scalar(g, hi);
        if (!v) return std::nullopt;
        a.beta = *v;
      }
      return a;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace pt2onnx::runtime
