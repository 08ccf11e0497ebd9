// Shape and Cast: their shape rules and constant evaluation.
#include "runtime/ops/shape.h"

#include <algorithm>

#include <fmt/format.h>

#include "runtime/constant_eval.h"
#include "runtime/op_util.h"
#include "runtime/shape_inference.h"
#include "runtime/tensor_proto.h"

namespace pt2onnx::runtime {
namespace {

Tensor shape_tensor(const Graph& g, const Node& n) {
  const auto dims = concrete_shape(g, n.inputs[0]);
  const auto rank = static_cast<std::int64_t>(dims.size());
  auto clamp_axis = [rank](std::int64_t a) { return std::clamp<std::int64_t>(a < 0 ? a + rank : a, 0, rank); };
  const auto start = clamp_axis(n.attrs.get_int("start", 0));
  const auto end = std::max(start, clamp_axis(n.attrs.get_int("end", rank)));
  Tensor out(DType::Int64, {end - start});
  for (auto i = start; i < end; ++i) store(out, i - start, dims[static_cast<std::size_t>(i)], 0.0, true);
  return out;
}

Tensor cast_tensor(const Graph& g, const Node& n) {
  const auto& in = constant_input(g, n, 0);
  Tensor out(g.value(n.outputs[0]).dtype, in.shape());
  const bool integer = is_integer(in.dtype()) || in.dtype() == DType::Bool;
  for (std::int64_t i = 0; i < in.numel(); ++i) {
    store(out, i, integer ? int_at(in, i) : 0, integer ? 0.0 : in.element_as_double(i), integer);
  }
  return out;
}

}  // namespace

std::vector<OutputInfo> infer_shape_op(const Graph& g, const Node& n) {
  expect_arity(n, 1, 1);
  const auto& x = input_dims(g, n, 0);
  if (!x) return {{DType::Int64, Dims(1)}};
  const auto rank = static_cast<std::int64_t>(x->size());
  auto clamp_axis = [rank](std::int64_t a) { return std::clamp<std::int64_t>(a < 0 ? a + rank : a, 0, rank); };
  const auto start = clamp_axis(n.attrs.get_int("start", 0));
  const auto end = clamp_axis(n.attrs.get_int("end", rank));
  return {{DType::Int64, Dims{Dim::known(std::max<std::int64_t>(0, end - start))}}};
}

std::vector<Tensor> eval_shape(const Graph& g, const Node& n) { return {shape_tensor(g, n)}; }

std::vector<OutputInfo> infer_cast(const Graph& g, const Node& n) {
  expect_arity(n, 1, 1);
  const auto to = n.attrs.find_int("to");
  if (!to) throw_error(ErrorKind::BadInput, "Cast has no 'to' attribute");
  const auto dtype = dtype_from_onnx(static_cast<std::int32_t>(*to));
  if (!dtype)
    throw_error(ErrorKind::Unsupported,
                fmt::format("Cast to {} is not supported", onnx_elem_type_name(static_cast<std::int32_t>(*to))));
  return {{*dtype, g.value(n.inputs[0]).dims}};
}

std::vector<Tensor> eval_cast(const Graph& g, const Node& n) { return {cast_tensor(g, n)}; }

}  // namespace pt2onnx::runtime
