// Range and ScatterND: their shape rules, constant evaluation and limits.
#include "runtime/ops/index.h"

#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "runtime/constant_eval.h"
#include "runtime/op_util.h"
#include "runtime/shape_inference.h"
#include "runtime/support.h"

namespace pt2onnx::runtime {
namespace {

// Range's start, limit and delta when all three are constants.
struct RangeArgs {
  const Tensor* start = nullptr;
  const Tensor* limit = nullptr;
  const Tensor* delta = nullptr;
};

std::optional<RangeArgs> range_args(const Graph& g, const Node& n) {
  RangeArgs r;
  std::array<const Tensor**, 3> slots{&r.start, &r.limit, &r.delta};
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& v = g.value(n.inputs[i]);
    if (!v.constant) return std::nullopt;
    if (v.constant->numel() != 1) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("input {} ('{}') has {} elements; Range needs scalars", i, v.name, v.constant->numel()));
    }
    *slots[i] = v.constant.get();
  }
  return r;
}

// The number of elements: max(ceil((limit - start) / delta), 0).
std::int64_t range_length(const RangeArgs& r) {
  if (is_integer(r.start->dtype())) {
    const auto start = int_at(*r.start, 0), limit = int_at(*r.limit, 0), delta = int_at(*r.delta, 0);
    if (delta == 0) throw_error(ErrorKind::BadInput, "Range's delta is 0");
    if (delta > 0) return limit > start ? (limit - start + delta - 1) / delta : 0;
    return limit < start ? (start - limit - delta - 1) / -delta : 0;
  }
  const auto start = r.start->element_as_double(0), limit = r.limit->element_as_double(0),
             delta = r.delta->element_as_double(0);
  if (delta == 0.0) throw_error(ErrorKind::BadInput, "Range's delta is 0");
  const auto count = std::ceil((limit - start) / delta);
  if (!std::isfinite(count)) throw_error(ErrorKind::BadInput, "Range's length is not finite");
  return count > 0 ? static_cast<std::int64_t>(count) : 0;
}

void combine(Tensor& out, std::int64_t i, const Tensor& updates, std::int64_t u, ScatterReduction r) {
  if (r == ScatterReduction::None) {
    const auto size = dtype_size(out.dtype());
    std::memcpy(out.bytes().data() + static_cast<std::size_t>(i) * size,
                updates.bytes().data() + static_cast<std::size_t>(u) * size, size);
    return;
  }
  if (is_integer(out.dtype())) {
    const auto a = int_at(out, i), b = int_at(updates, u);
    const auto v = r == ScatterReduction::Add   ? a + b
                   : r == ScatterReduction::Mul ? a * b
                   : r == ScatterReduction::Max ? std::max(a, b)
                                                : std::min(a, b);
    store(out, i, v, 0.0, true);
    return;
  }
  const auto a = out.element_as_double(i), b = updates.element_as_double(u);
  const auto v = r == ScatterReduction::Add   ? a + b
                 : r == ScatterReduction::Mul ? a * b
                 : r == ScatterReduction::Max ? std::max(a, b)
                                              : std::min(a, b);
  store(out, i, 0, v, false);
}

}  // namespace

std::vector<OutputInfo> infer_range(const Graph& g, const Node& n) {
  expect_arity(n, 3, 3);
  const auto dtype = input_dtype(g, n, 0);
  for (std::size_t i = 1; i < 3; ++i) {
    if (input_dtype(g, n, i) != dtype) {
      throw_error(ErrorKind::BadInput, fmt::format("inputs have different dtypes ({} and {})", dtype_name(dtype),
                                                   dtype_name(input_dtype(g, n, i))));
    }
  }
  if (dtype == DType::Bool) throw_error(ErrorKind::BadInput, "Range needs numeric inputs");
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& d = input_dims(g, n, i);
    if (d && !d->empty() && !(d->size() == 1 && (*d)[0].is(1))) {
      throw_error(ErrorKind::BadInput, fmt::format("input {} has dims {}; Range needs scalars", i, dims_to_string(*d)));
    }
  }
  const auto args = range_args(g, n);
  if (!args) return {{dtype, Dims(1)}};
  return {{dtype, Dims{Dim::known(range_length(*args))}}};
}

std::vector<Tensor> eval_range(const Graph& g, const Node& n) {
  const auto args = range_args(g, n);
  if (!args) throw_error(ErrorKind::Internal, "Range evaluated on computed inputs");
  const auto count = range_length(*args);
  const auto dtype = args->start->dtype();
  Tensor out(dtype, {count});
  if (is_integer(dtype)) {
    const auto start = int_at(*args->start, 0), delta = int_at(*args->delta, 0);
    for (std::int64_t i = 0; i < count; ++i) store(out, i, start + i * delta, 0.0, true);
  } else if (dtype == DType::Float32) {
    // The spec's loop, prev + delta, in float32.
    auto v = static_cast<float>(args->start->element_as_double(0));
    const auto delta = static_cast<float>(args->delta->element_as_double(0));
    for (std::int64_t i = 0; i < count; ++i, v += delta) store(out, i, 0, v, false);
  } else {
    auto v = args->start->element_as_double(0);
    const auto delta = args->delta->element_as_double(0);
    for (std::int64_t i = 0; i < count; ++i, v += delta) store(out, i, 0, v, false);
  }
  return {out};
}

ScatterReduction scatter_reduction(const Node& n) {
  const auto r = n.attrs.get_string("reduction", "none");
  if (r == "none") return ScatterReduction::None;
  if (r == "add") return ScatterReduction::Add;
  if (r == "mul") return ScatterReduction::Mul;
  if (r == "max") return ScatterReduction::Max;
  if (r == "min") return ScatterReduction::Min;
  throw_error(ErrorKind::BadInput,
              fmt::format("ScatterND's reduction is '{}'; it must be none, add, mul, max or min", r));
}

ScatterPlan scatter_plan(const Shape& data, const Tensor& indices, const Shape& updates) {
  if (indices.rank() < 1) throw_error(ErrorKind::BadInput, "ScatterND's indices must have rank >= 1");
  const auto k = indices.shape().back();
  if (k < 1 || k > static_cast<std::int64_t>(data.size())) {
    throw_error(ErrorKind::BadInput,
                fmt::format("ScatterND's index tuples have {} elements; the data has rank {}", k, data.size()));
  }
  Shape expected(indices.shape().begin(), indices.shape().end() - 1);
  expected.insert(expected.end(), data.begin() + k, data.end());
  if (expected != updates) {
    throw_error(ErrorKind::BadInput, fmt::format("ScatterND's updates have shape {}; data {} and indices {} need {}",
                                                 shape_to_string(updates), shape_to_string(data),
                                                 shape_to_string(indices.shape()), shape_to_string(expected)));
  }
  ScatterPlan p;
  for (auto i = static_cast<std::size_t>(k); i < data.size(); ++i) p.slice *= data[i];
  const auto tuples = indices.numel() / k;
  p.offsets.reserve(static_cast<std::size_t>(tuples));
  for (std::int64_t t = 0; t < tuples; ++t) {
    std::int64_t offset = 0;
    for (std::int64_t j = 0; j < k; ++j) {
      const auto size = data[static_cast<std::size_t>(j)];
      auto idx = int_at(indices, t * k + j);
      if (idx < -size || idx >= size) {
        throw_error(ErrorKind::BadInput,
                    fmt::format("ScatterND's index {} is out of range for axis {} of size {}", idx, j, size));
      }
      if (idx < 0) idx += size;
      offset = offset * size + idx;
    }
    p.offsets.push_back(offset * p.slice);
  }
  return p;
}

std::vector<OutputInfo> infer_scatter_nd(const Graph& g, const Node& n) {
  expect_arity(n, 3, 3);
  scatter_reduction(n);
  const auto dtype = input_dtype(g, n, 0);
  if (input_dtype(g, n, 1) != DType::Int64) throw_error(ErrorKind::BadInput, "ScatterND's indices must be int64");
  if (input_dtype(g, n, 2) != dtype) {
    throw_error(ErrorKind::BadInput, fmt::format("data and updates have different dtypes ({} and {})",
                                                 dtype_name(dtype), dtype_name(input_dtype(g, n, 2))));
  }
  // Indices out of range or updates of the wrong shape fail at load when the shapes and indices are known.
  const auto& indices = g.value(n.inputs[1]).constant;
  const auto& data = input_dims(g, n, 0);
  const auto& updates = input_dims(g, n, 2);
  if (indices && data && updates && all_known(*data) && all_known(*updates)) {
    scatter_plan(known_values(*data), *indices, known_values(*updates));
  }
  return same_as_input(g, n);
}

std::vector<Tensor> eval_scatter_nd(const Graph& g, const Node& n) {
  const auto& data = constant_input(g, n, 0);
  const auto& indices = constant_input(g, n, 1);
  const auto& updates = constant_input(g, n, 2);
  const auto reduction = scatter_reduction(n);
  const auto plan = scatter_plan(data.shape(), indices, updates.shape());
  Tensor out = data;
  for (std::size_t t = 0; t < plan.offsets.size(); ++t) {
    for (std::int64_t j = 0; j < plan.slice; ++j) {
      combine(out, plan.offsets[t] + j, updates, static_cast<std::int64_t>(t) * plan.slice + j, reduction);
    }
  }
  return {out};
}

void check_scatter_nd_support(const Graph& g, const Node& n, const std::vector<bool>& known) {
  for (std::size_t i : {0, 2}) {
    const auto& v = g.value(n.inputs[i]);
    if (v.dtype != DType::Float32) {
      throw_error(ErrorKind::Unsupported,
                  fmt::format("input '{}' is {}; the engine computes in float32", v.name, dtype_name(v.dtype)));
    }
  }
  if (!known[static_cast<std::size_t>(n.inputs[1])]) {
    throw_error(ErrorKind::Unsupported,
                fmt::format("ScatterND of computed tensors needs its indices known before the run; '{}' is computed",
                            g.value(n.inputs[1]).name));
  }
}

}  // namespace pt2onnx::runtime
