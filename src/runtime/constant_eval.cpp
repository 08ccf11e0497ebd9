#include "runtime/constant_eval.h"

#include <cstring>

#include <fmt/format.h>

#include "runtime/op_def.h"
#include "runtime/op_util.h"

namespace pt2onnx::runtime {
namespace {

template <typename T>
void put(Tensor& t, std::int64_t i, T v) {
  std::memcpy(t.bytes().data() + static_cast<std::size_t>(i) * sizeof(T), &v, sizeof(T));
}

}  // namespace

bool is_integer(DType d) { return !dtype_is_floating(d) && d != DType::Bool; }

std::int64_t int_at(const Tensor& t, std::int64_t i) {
  if (t.dtype() == DType::Int64) {
    std::int64_t v = 0;
    std::memcpy(&v, t.bytes().data() + static_cast<std::size_t>(i) * 8, 8);
    return v;
  }
  return static_cast<std::int64_t>(t.element_as_double(i));
}

void store(Tensor& t, std::int64_t i, std::int64_t iv, double dv, bool integer_value) {
  switch (t.dtype()) {
    case DType::Float32:
      put(t, i, static_cast<float>(integer_value ? static_cast<double>(iv) : dv));
      break;
    case DType::Float64:
      put(t, i, integer_value ? static_cast<double>(iv) : dv);
      break;
    case DType::Int64:
      put(t, i, integer_value ? iv : static_cast<std::int64_t>(dv));
      break;
    case DType::Int32:
      put(t, i, static_cast<std::int32_t>(integer_value ? iv : static_cast<std::int64_t>(dv)));
      break;
    case DType::Int16:
      put(t, i, static_cast<std::int16_t>(integer_value ? iv : static_cast<std::int64_t>(dv)));
      break;
    case DType::Int8:
      put(t, i, static_cast<std::int8_t>(integer_value ? iv : static_cast<std::int64_t>(dv)));
      break;
    case DType::UInt8:
      put(t, i, static_cast<std::uint8_t>(integer_value ? iv : static_cast<std::int64_t>(dv)));
      break;
    case DType::Bool:
      put(t, i, static_cast<std::uint8_t>((integer_value ? iv != 0 : dv != 0.0) ? 1 : 0));
      break;
    default:
      throw_error(ErrorKind::Unsupported, fmt::format("cannot compute {} values", dtype_name(t.dtype())));
  }
}

const Tensor& constant_input(const Graph& g, const Node& n, std::size_t i) { return *g.value(n.inputs.at(i)).constant; }

Shape output_shape(const Graph& g, const Node& n, std::size_t i) { return concrete_shape(g, n.outputs.at(i)); }

bool can_evaluate(const Graph& g, const Node& n) {
  if (!is_shape_op(n.op)) return false;
  for (auto out : n.outputs) {
    const auto& d = g.value(out).dims;
    if (!d || !all_known(*d)) return false;
  }
  if (op_def(n.op).reads_dims_only) {
    const auto& d = g.value(n.inputs.at(0)).dims;
    return d && all_known(*d);
  }
  for (auto in : n.inputs) {
    if (in != kNoValue && !g.is_constant(in)) return false;
  }
  return true;
}

std::vector<Tensor> evaluate(const Graph& g, const Node& n) {
  const auto rule = op_def(n.op).evaluate;
  if (!rule) throw_error(ErrorKind::Internal, fmt::format("{} is not a shape op", describe_node(n)));
  return rule(g, n);
}

}  // namespace pt2onnx::runtime
