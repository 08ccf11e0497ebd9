// Shape rules for the compute operators: Conv, pools, BatchNormalization, Gemm, MatMul.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "runtime/geometry.h"
#include "runtime/op_util.h"
#include "runtime/shape_inference.h"

namespace pt2onnx::runtime {
namespace {

// Input 0 of a conv or pool: [N, C, spatial...] with 1 to 3 spatial dims.
const Dims* image_dims(const Graph& g, const Node& n) {
  const auto& dims = input_dims(g, n, 0);
  if (!dims) return nullptr;
  if (dims->size() < 3 || dims->size() > 5) {
    throw_error(ErrorKind::Unsupported,
                fmt::format("input {} must be [N, C, spatial...] with 1 to 3 spatial dims", dims_to_string(*dims)));
  }
  return &*dims;
}

// Output spatial dims when the input's are known, unknown otherwise.
Dims spatial_output(const AttributeMap& attrs, const Dims& in, const std::vector<std::int64_t>& kernel, bool pool,
                    bool dilations) {
  const Dims spatial(in.begin() + 2, in.end());
  if (!all_known(spatial)) {
    window_geometry(attrs, std::vector<std::int64_t>(spatial.size(), 1 << 20), kernel, pool,
                    dilations);  // attribute checks
    return Dims(spatial.size());
  }
  return dims_from_values(window_geometry(attrs, known_values(spatial), kernel, pool, dilations).output);
}

}  // namespace

std::vector<OutputInfo> infer_conv(const Graph& g, const Node& n) {
  expect_arity(n, 2, 3);
  const auto& w = input_dims(g, n, 1);
  const auto* x = image_dims(g, n);
  if (!w || !all_known(*w)) throw_error(ErrorKind::Unsupported, "the weight shape must be known");
  const auto wv = known_values(*w);
  if (x && x->size() != wv.size()) {
    throw_error(ErrorKind::BadInput,
                fmt::format("weight {} does not match input {}", dims_to_string(*w), dims_to_string(*x)));
  }
  if (wv.size() < 3 || wv.size() > 5)
    throw_error(ErrorKind::Unsupported, fmt::format("weight {} must have 1 to 3 spatial dims", dims_to_string(*w)));
  const auto group = n.attrs.get_int("group", 1);
  if (group <= 0 || wv[0] % group != 0) {
    throw_error(ErrorKind::BadInput, fmt::format("group {} does not divide the {} output channels", group, wv[0]));
  }
  if (x && (*x)[1].is_known() && (*x)[1].value() != wv[1] * group) {
    throw_error(ErrorKind::BadInput, fmt::format("input has {} channels, weight {} with group {} expects {}",
                                                 (*x)[1].value(), dims_to_string(*w), group, wv[1] * group));
  }
  const std::vector<std::int64_t> kernel(wv.begin() + 2, wv.end());
  if (auto ks = n.attrs.find_ints("kernel_shape"); ks && *ks != kernel) {
    throw_error(ErrorKind::BadInput, "kernel_shape does not match the weight");
  }
  const auto b = optional_input(n, 2);
  if (b != kNoValue && g.value(b).dims) {
    const auto& bd = *g.value(b).dims;
    if (bd.size() != 1 || !bd[0].is(wv[0])) {
      throw_error(ErrorKind::BadInput, fmt::format("bias {} must be [{}]", dims_to_string(bd), wv[0]));
    }
  }
  if (!x) return {{DType::Float32, std::nullopt}};
  Dims out{(*x)[0], Dim::known(wv[0])};
  for (auto d : spatial_output(n.attrs, *x, kernel, false, true)) out.push_back(d);
  return {{DType::Float32, out}};
}

std::vector<OutputInfo> infer_pool(const Graph& g, const Node& n) {
  expect_arity(n, 1, 1);
  const auto kernel = n.attrs.find_ints("kernel_shape");
  if (!kernel) throw_error(ErrorKind::BadInput, "kernel_shape is required");
  const auto* x = image_dims(g, n);
  if (n.op == OpType::MaxPool && n.attrs.get_int("storage_order", 0) != 0 && n.outputs.size() > 1) {
    throw_error(ErrorKind::Unsupported, "storage_order 1 is not supported");
  }
  if (!x) return {{DType::Float32, std::nullopt}, {DType::Int64, std::nullopt}};
  if (kernel->size() + 2 != x->size()) {
    throw_error(ErrorKind::BadInput,
                fmt::format("kernel_shape has {} dims, input {}", kernel->size(), dims_to_string(*x)));
  }
  Dims out{(*x)[0], (*x)[1]};
  const bool dilations = n.op == OpType::MaxPool;
  for (auto d : spatial_output(n.attrs, *x, *kernel, true, dilations)) out.push_back(d);
  return {{DType::Float32, out}, {DType::Int64, out}};
}

std::vector<OutputInfo> infer_global_pool(const Graph& g, const Node& n) {
  expect_arity(n, 1, 1);
  const auto* x = image_dims(g, n);
  if (!x) return {{DType::Float32, std::nullopt}};
  Dims out{(*x)[0], (*x)[1]};
  out.resize(x->size(), Dim::known(1));
  return {{DType::Float32, out}};
}

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

std::vector<OutputInfo> infer_gemm(const Graph& g, const Node& n) {
  expect_arity(n, 2, 3);
  const auto& a = input_dims(g, n, 0);
  const auto& b = input_dims(g, n, 1);
  if (!a || !b) return {{DType::Float32, std::nullopt}};
  if (a->size() != 2 || b->size() != 2) {
    throw_error(ErrorKind::BadInput,
                fmt::format("A {} and B {} must be matrices", dims_to_string(*a), dims_to_string(*b)));
  }
  const bool ta = n.attrs.get_int("transA", 0) != 0;
  const bool tb = n.attrs.get_int("transB", 0) != 0;
  const Dim m = (*a)[ta ? 1 : 0];
  const Dim ka = (*a)[ta ? 0 : 1];
  const Dim kb = (*b)[tb ? 1 : 0];
  const Dim nn = (*b)[tb ? 0 : 1];
  if (ka.is_known() && kb.is_known() && ka.value() != kb.value()) {
    throw_error(ErrorKind::BadInput, fmt::format("A {} and B {} (transA {}, transB {}) disagree on K",
                                                 dims_to_string(*a), dims_to_string(*b), ta ? 1 : 0, tb ? 1 : 0));
  }
  const Dims out{m, nn};
  const auto c = optional_input(n, 2);
  if (c != kNoValue && g.value(c).dims) {
    const auto bc = broadcast_dims(*g.value(c).dims, out);
    if (bc.size() != 2 || (out[0].is_known() && !bc[0].same_as(out[0])) ||
        (out[1].is_known() && !bc[1].same_as(out[1]))) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("C {} does not broadcast to {}", dims_to_string(*g.value(c).dims), dims_to_string(out)));
    }
  }
  return {{DType::Float32, out}};
}

std::vector<OutputInfo> infer_matmul(const Graph& g, const Node& n) {
  expect_arity(n, 2, 2);
  const auto& a = input_dims(g, n, 0);
  const auto& b = input_dims(g, n, 1);
  if (!a || !b) return {{DType::Float32, std::nullopt}};
  if (a->empty() || b->empty()) throw_error(ErrorKind::BadInput, "MatMul inputs must have rank 1 or more");
  // Rank-1 operands are promoted to matrices and the added axis dropped after.
  Dims ea = a->size() == 1 ? Dims{Dim::known(1), (*a)[0]} : *a;
  Dims eb = b->size() == 1 ? Dims{(*b)[0], Dim::known(1)} : *b;
  const Dim ka = ea.back();
  const Dim kb = eb[eb.size() - 2];
  if (ka.is_known() && kb.is_known() && ka.value() != kb.value()) {
    throw_error(ErrorKind::BadInput,
                fmt::format("A {} and B {} disagree on K", dims_to_string(*a), dims_to_string(*b)));
  }
  const Dims batch_a(ea.begin(), ea.end() - 2);
  const Dims batch_b(eb.begin(), eb.end() - 2);
  Dims out = broadcast_dims(batch_a, batch_b);
  if (a->size() != 1) out.push_back(ea[ea.size() - 2]);
  if (b->size() != 1) out.push_back(eb.back());
  return {{DType::Float32, out}};
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

}  // namespace pt2onnx::runtime
