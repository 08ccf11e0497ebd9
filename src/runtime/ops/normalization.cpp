// BatchNormalization, LayerNormalization, Softmax, ReduceMean: their shape
// rules, batch rows and limits.
#include "runtime/ops/normalization.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "runtime/op_util.h"
#include "runtime/ops/layout.h"
#include "runtime/shape_inference.h"
#include "runtime/support.h"

namespace pt2onnx::runtime {

std::vector<OutputInfo> infer_batch_norm(const Graph& g, const Node& n) {
  expect_arity(n, 5, 5);
  if (n.attrs.get_int("training_mode", 0) != 0) {
    throw_error(ErrorKind::Unsupported, "training_mode 1 is not supported (export the model in eval mode)");
  }
  // sqrt(var + epsilon) must stay real and non-zero for any variance.
  if (const auto eps = n.attrs.find_float("epsilon"); eps && !(std::isfinite(*eps) && *eps >= 0.0f)) {
    throw_error(ErrorKind::BadInput, fmt::format("epsilon {} is not a finite number, 0 or more", *eps));
  }
  const auto& x = input_dims(g, n, 0);
  if (x && x->size() < 2)
    throw_error(ErrorKind::BadInput, fmt::format("input {} has no channel axis", dims_to_string(*x)));
  for (std::size_t i = 1; i < 5; ++i) {
    const auto& p = input_dims(g, n, i);
    if (!p || p->size() != 1 || (x && !(*p)[0].same_as((*x)[1]) && (*x)[1].is_known())) {
      throw_error(ErrorKind::BadInput, fmt::format("parameter '{}' must be [C] for input {}", g.value(n.inputs[i]).name,
                                                   x ? dims_to_string(*x) : "?"));
    }
  }
  return {{DType::Float32, x}};
}

std::vector<OutputInfo> infer_normalized_concat(const Graph& g, const Node& n) {
  if (n.inputs.size() < 5) throw_error(ErrorKind::BadInput, "needs a piece and four parameters");
  Node pieces = n;
  pieces.inputs.resize(n.inputs.size() - 4);
  pieces.attrs = {};
  pieces.attrs.set_int("axis", 1);
  auto out = infer_concat(g, pieces);
  const auto& y = out[0].dims;
  for (std::size_t i = pieces.inputs.size(); i < n.inputs.size(); ++i) {
    const auto& p = input_dims(g, n, i);
    if (!p || p->size() != 1 || (y && y->size() >= 2 && (*y)[1].is_known() && !(*p)[0].same_as((*y)[1]))) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("parameter '{}' must be [C] for the joined channels", g.value(n.inputs[i]).name));
    }
  }
  return out;
}

void check_batch_norm_support(const Graph& g, const Node& n, const std::vector<bool>& known) {
  check_kernel_inputs(g, n, known);
  for (std::size_t i = 1; i < n.inputs.size(); ++i) {
    if (!known[static_cast<std::size_t>(n.inputs[i])]) {
      throw_error(ErrorKind::Unsupported, fmt::format("parameter '{}' must be a constant", g.value(n.inputs[i]).name));
    }
  }
}

std::vector<OutputInfo> infer_layer_norm(const Graph& g, const Node& n) {
  expect_arity(n, 2, 3);
  if (const auto eps = n.attrs.find_float("epsilon"); eps && !(std::isfinite(*eps) && *eps >= 0.0f)) {
    throw_error(ErrorKind::BadInput, fmt::format("epsilon {} is not a finite number, 0 or more", *eps));
  }
  const auto& x = input_dims(g, n, 0);
  if (!x) return {{DType::Float32, std::nullopt}, {DType::Float32, std::nullopt}, {DType::Float32, std::nullopt}};
  const auto rank = static_cast<std::int64_t>(x->size());
  const auto axis = static_cast<std::size_t>(normalize_axis(n.attrs.get_int("axis", -1), rank, "axis"));
  // Scale and B broadcast to the normalised shape X.shape[axis:].
  const Dims normalized(x->begin() + static_cast<std::ptrdiff_t>(axis), x->end());
  for (std::size_t i = 1; i < 3; ++i) {
    const auto v = optional_input(n, i);
    if (v == kNoValue || !g.value(v).dims) continue;
    const auto& p = *g.value(v).dims;
    const auto bc = broadcast_dims(p, normalized);
    bool fits = bc.size() == normalized.size();
    for (std::size_t k = 0; fits && k < bc.size(); ++k)
      fits = !normalized[k].is_known() || bc[k].same_as(normalized[k]);
    if (!fits) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("{} {} does not broadcast to the normalised shape {}", i == 1 ? "Scale" : "B",
                              dims_to_string(p), dims_to_string(normalized)));
    }
  }
  // Mean and InvStdDev: X's shape with the normalised axes set to 1.
  Dims stats(x->begin(), x->begin() + static_cast<std::ptrdiff_t>(axis));
  stats.resize(x->size(), Dim::known(1));
  return {{DType::Float32, x}, {DType::Float32, stats}, {DType::Float32, stats}};
}

BatchRows layer_norm_batch_rows(const Graph& g, const Node& n) {
  if (normalize_axis(n.attrs.get_int("axis", -1), value_rank(g, n.inputs[0]), "axis") == 0) return BatchRows::Mixed;
  return BatchRows::KeptApartIfInputsBatched;
}

void check_layer_norm_support(const Graph& g, const Node& n, const std::vector<bool>& known) {
  check_kernel_inputs(g, n, known);
  for (std::size_t i = 1; i < 3; ++i) {
    if (output_in_use(g, n, i)) {
      throw_error(ErrorKind::Unsupported,
                  fmt::format("the {} output of LayerNormalization is not supported", i == 1 ? "Mean" : "InvStdDev"));
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

std::vector<OutputInfo> infer_softmax(const Graph& g, const Node& n) {
  expect_arity(n, 1, 1);
  const auto& dims = input_dims(g, n, 0);
  if (dims)
    normalize_axis(n.attrs.get_int("axis", g.opset >= 13 ? -1 : 1), static_cast<std::int64_t>(dims->size()), "axis");
  return same_as_input(g, n);
}

BatchRows softmax_batch_rows(const Graph& g, const Node& n) {
  return normalize_axis(n.attrs.get_int("axis", -1), value_rank(g, n.inputs[0]), "axis") != 0 ? BatchRows::KeptApart
                                                                                              : BatchRows::Mixed;
}

std::vector<OutputInfo> infer_reduce_mean(const Graph& g, const Node& n) {
  expect_arity(n, 1, g.opset < 18 ? 1 : 2);
  if (g.opset < 18 && optional_input(n, 1) != kNoValue)
    throw_error(ErrorKind::BadInput, fmt::format("axes are an attribute before opset 18, not an input"));
  const auto& x = input_dims(g, n, 0);
  if (!x) return {{DType::Float32, std::nullopt}};
  const bool keepdims = n.attrs.get_int("keepdims", 1) != 0;
  const auto axes = reduce_axes(g, n, x->size());
  if (!axes) return {{DType::Float32, keepdims ? MaybeDims(Dims(x->size())) : std::nullopt}};
  Dims out;
  for (std::size_t i = 0; i < x->size(); ++i) {
    const bool reduced = std::binary_search(axes->begin(), axes->end(), static_cast<std::int64_t>(i));
    if (!reduced) {
      out.push_back((*x)[i]);
    } else if (keepdims) {
      out.push_back(Dim::known(1));
    }
  }
  return {{DType::Float32, out}};
}

BatchRows reduce_mean_batch_rows(const Graph& g, const Node& n) {
  const auto axes = reduce_axes(g, n, static_cast<std::size_t>(value_rank(g, n.inputs[0])));
  if (!axes || (!axes->empty() && axes->front() == 0)) return BatchRows::Mixed;
  return BatchRows::KeptApartIfInputsBatched;
}

}  // namespace pt2onnx::runtime
