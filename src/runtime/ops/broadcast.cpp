// ConstantOfShape, Equal, Expand, Where: their shape rules, batch rows,
// constant evaluation and limits.
#include "runtime/ops/broadcast.h"

#include <cstring>

#include <fmt/format.h>

#include "runtime/constant_eval.h"
#include "runtime/op_util.h"
#include "runtime/ops/binary.h"
#include "runtime/shape_inference.h"
#include "runtime/support.h"

namespace pt2onnx::runtime {
namespace {

// ConstantOfShape's fill value: its 'value' attribute (one element, any
// dtype), float32 zero without it.
Tensor fill_value(const Node& n) {
  const auto t = n.attrs.find_tensor("value");
  if (!t) return Tensor(DType::Float32, {1});
  if (t->numel() != 1) {
    throw_error(ErrorKind::BadInput, fmt::format("'value' has {} elements; it must have one", t->numel()));
  }
  return *t;
}

// The target shape of ConstantOfShape or Expand: a 1-D int64 tensor of sizes
// >= 0; nullopt when it is not a constant.
std::optional<std::vector<std::int64_t>> target_shape(const Graph& g, const Node& n, std::size_t i) {
  if (input_dtype(g, n, i) != DType::Int64) throw_error(ErrorKind::BadInput, "the shape input must be int64");
  const auto& d = input_dims(g, n, i);
  if (d && d->size() != 1) throw_error(ErrorKind::BadInput, "the shape input must be 1-D");
  auto v = constant_ints(g, n.inputs[i]);
  if (!v) return std::nullopt;
  for (auto s : *v) {
    if (s < 0) throw_error(ErrorKind::BadInput, fmt::format("the shape has the negative size {}", s));
  }
  return v;
}

// Copies element `from` of src into element `to` of dst (same dtype).
void copy_element(Tensor& dst, std::int64_t to, const Tensor& src, std::int64_t from) {
  const auto size = dtype_size(src.dtype());
  std::memcpy(dst.bytes().data() + static_cast<std::size_t>(to) * size,
              src.bytes().data() + static_cast<std::size_t>(from) * size, size);
}

bool data_batched_like_output(const Graph& g, const Node& n, std::size_t first, std::size_t last) {
  const auto rank = value_rank(g, n.outputs[0]);
  for (auto i = first; i <= last && i < n.inputs.size(); ++i) {
    const auto in = n.inputs[i];
    // A lower-rank operand broadcasts over the batch; a computed one has
    // its rows elsewhere, a constant one with rows of its own mixes them.
    if (value_rank(g, in) != rank) {
      if (!g.is_constant(in)) return false;
      continue;
    }
    if (g.is_constant(in) && !(*g.value(in).dims)[0].is(1)) return false;
  }
  return true;
}

}  // namespace

std::vector<OutputInfo> infer_constant_of_shape(const Graph& g, const Node& n) {
  expect_arity(n, 1, 1);
  const auto dtype = fill_value(n).dtype();
  const auto shape = target_shape(g, n, 0);
  if (shape) return {{dtype, dims_from_values(*shape)}};
  const auto& d = input_dims(g, n, 0);
  if (d && (*d)[0].is_known()) return {{dtype, Dims(static_cast<std::size_t>((*d)[0].value()))}};
  return {{dtype, std::nullopt}};
}

std::vector<Tensor> eval_constant_of_shape(const Graph& g, const Node& n) {
  const auto value = fill_value(n);
  Tensor out(value.dtype(), output_shape(g, n));
  for (std::int64_t i = 0; i < out.numel(); ++i) copy_element(out, i, value, 0);
  return {out};
}

std::vector<OutputInfo> infer_equal(const Graph& g, const Node& n) {
  auto info = infer_binary(g, n);  // Add's arity, dtype and broadcasting rules, and a bool result
  info[0].dtype = DType::Bool;
  return info;
}

std::vector<Tensor> eval_equal(const Graph& g, const Node& n) {
  const auto& a = constant_input(g, n, 0);
  const auto& b = constant_input(g, n, 1);
  Tensor out(DType::Bool, output_shape(g, n));
  const bool integer = is_integer(a.dtype());
  for_each_broadcast<2>({&a, &b}, out.shape(), [&](std::int64_t i, const std::array<std::int64_t, 2>& s) {
    // Integers compare exactly (int64 beyond 2^53 would not as doubles);
    // float32, float64 and Bool as their values.
    const bool eq =
        integer ? int_at(a, s[0]) == int_at(b, s[1]) : a.element_as_double(s[0]) == b.element_as_double(s[1]);
    store(out, i, eq ? 1 : 0, 0.0, true);
  });
  return {out};
}

std::vector<OutputInfo> infer_expand(const Graph& g, const Node& n) {
  expect_arity(n, 2, 2);
  const auto dtype = input_dtype(g, n, 0);
  const auto& x = input_dims(g, n, 0);
  const auto shape = target_shape(g, n, 1);
  if (!x) return {{dtype, std::nullopt}};
  if (shape) return {{dtype, broadcast_dims(*x, dims_from_values(*shape))}};
  // The shape is computed: only the rank is known, and any axis where the
  // input has a known size other than 1 (the shape must have 1 or that size).
  const auto& sd = input_dims(g, n, 1);
  if (!sd || !(*sd)[0].is_known()) return {{dtype, std::nullopt}};
  const auto rank = std::max(x->size(), static_cast<std::size_t>((*sd)[0].value()));
  Dims out(rank);
  for (std::size_t i = 0; i < x->size(); ++i) {
    const auto& d = (*x)[i];
    if (d.is_known() && !d.is(1)) out[rank - x->size() + i] = d;
  }
  return {{dtype, out}};
}

BatchRows expand_batch_rows(const Graph& g, const Node& n) {
  return data_batched_like_output(g, n, 0, 0) ? BatchRows::KeptApartIfInputsBatched : BatchRows::Mixed;
}

std::vector<Tensor> eval_expand(const Graph& g, const Node& n) {
  const auto& x = constant_input(g, n, 0);
  Tensor out(x.dtype(), output_shape(g, n));
  for_each_broadcast<1>({&x}, out.shape(),
                        [&](std::int64_t i, const std::array<std::int64_t, 1>& s) { copy_element(out, i, x, s[0]); });
  return {out};
}

std::vector<OutputInfo> infer_where(const Graph& g, const Node& n) {
  expect_arity(n, 3, 3);
  if (input_dtype(g, n, 0) != DType::Bool) throw_error(ErrorKind::BadInput, "the condition must be bool");
  const auto dtype = input_dtype(g, n, 1);
  if (input_dtype(g, n, 2) != dtype) {
    throw_error(ErrorKind::BadInput, fmt::format("X and Y have different dtypes ({} and {})", dtype_name(dtype),
                                                 dtype_name(input_dtype(g, n, 2))));
  }
  const auto& c = input_dims(g, n, 0);
  const auto& x = input_dims(g, n, 1);
  const auto& y = input_dims(g, n, 2);
  if (!c || !x || !y) return {{dtype, std::nullopt}};
  return {{dtype, broadcast_dims(broadcast_dims(*c, *x), *y)}};
}

BatchRows where_batch_rows(const Graph& g, const Node& n) {
  return data_batched_like_output(g, n, 0, 2) ? BatchRows::KeptApartIfInputsBatched : BatchRows::Mixed;
}

std::vector<Tensor> eval_where(const Graph& g, const Node& n) {
  const auto& c = constant_input(g, n, 0);
  const auto& x = constant_input(g, n, 1);
  const auto& y = constant_input(g, n, 2);
  Tensor out(x.dtype(), output_shape(g, n));
  for_each_broadcast<3>({&c, &x, &y}, out.shape(), [&](std::int64_t i, const std::array<std::int64_t, 3>& s) {
    if (c.element_as_double(s[0]) != 0.0) {
      copy_element(out, i, x, s[1]);
    } else {
      copy_element(out, i, y, s[2]);
    }
  });
  return {out};
}

void check_where_support(const Graph& g, const Node& n, const std::vector<bool>& known) {
  if (!known[static_cast<std::size_t>(n.inputs[0])]) {
    throw_error(ErrorKind::Unsupported,
                fmt::format("Where of computed tensors needs its condition known before the run; '{}' is computed",
                            g.value(n.inputs[0]).name));
  }
  for (std::size_t i = 1; i < 3; ++i) {
    const auto& v = g.value(n.inputs[i]);
    if (v.dtype != DType::Float32) {
      throw_error(ErrorKind::Unsupported,
                  fmt::format("input '{}' is {}; the engine computes in float32", v.name, dtype_name(v.dtype)));
    }
  }
}

}  // namespace pt2onnx::runtime
