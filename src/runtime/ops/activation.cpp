// The activations and Erf: their shape rules, the Activation each computes
// as a post-op, and Clip's limits.
#include "runtime/ops/activation.h"

#include <limits>

#include <fmt/format.h>

#include "runtime/op_util.h"
#include "runtime/shape_inference.h"
#include "runtime/support.h"

namespace pt2onnx::runtime {

std::vector<OutputInfo> infer_activation(const Graph& g, const Node& n) {
  expect_arity(n, 1, 1);
  return same_as_input(g, n);
}

std::vector<OutputInfo> infer_clip(const Graph& g, const Node& n) {
  expect_arity(n, 1, 3);
  // Clip's bounds became inputs in opset 11; the ONNX checker refuses the old attributes.
  if (g.opset >= 11 && (n.attrs.has("min") || n.attrs.has("max"))) {
    throw_error(ErrorKind::BadInput, fmt::format("Clip has a '{}' attribute, which opset {} does not allow: since "
                                                 "opset 11 the bounds are inputs",
                                                 n.attrs.has("min") ? "min" : "max", g.opset));
  }
  return same_as_input(g, n);
}

std::optional<Activation> hard_sigmoid_activation(const Graph& /*g*/, const Node& n) {
  Activation a;
  a.kind = ActivationKind::HardSigmoid;
  a.alpha = n.attrs.get_float("alpha", 0.2f);
  a.beta = n.attrs.get_float("beta", 0.5f);
  return a;
}

std::optional<Activation> clip_activation(const Graph& g, const Node& n) {
  Activation a;
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

void check_clip_support(const Graph& g, const Node& n, const std::vector<bool>& known) {
  check_kernel_inputs(g, n, known);
  if (!clip_activation(g, n)) throw_error(ErrorKind::Unsupported, "Clip bounds must be constants");
}

}  // namespace pt2onnx::runtime
