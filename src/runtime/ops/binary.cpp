// Add, Sub, Mul, Div: their shape rule, batch rows and constant evaluation
// (small int arithmetic on shapes; integer Div truncates).
#include "runtime/ops/binary.h"

#include <type_traits>

#include <fmt/format.h>

#include "runtime/constant_eval.h"
#include "runtime/op_util.h"
#include "runtime/shape_inference.h"

namespace pt2onnx::runtime {
namespace {

// x op y for Add, Sub, Mul or Div; integer division by zero is an error.
template <typename T>
T arithmetic(OpType op, T x, T y) {
  switch (op) {
    case OpType::Add:
      return x + y;
    case OpType::Sub:
      return x - y;
    case OpType::Mul:
      return x * y;
    default:
      if constexpr (std::is_integral_v<T>) {
        if (y == 0) throw_error(ErrorKind::BadInput, "integer division by zero");
      }
      return x / y;
  }
}

Tensor binary_tensor(const Graph& g, const Node& n) {
  const auto& a = constant_input(g, n, 0);
  const auto& b = constant_input(g, n, 1);
  Tensor out(a.dtype(), output_shape(g, n));
  const auto rank = out.rank();
  // Index of an output element in a broadcast operand.
  auto source = [&](const Tensor& t, std::int64_t i) {
    std::int64_t rest = i, src = 0, stride = 1;
    for (auto d = rank; d-- > 0;) {
      const auto k = rest % out.dim(d);
      rest /= out.dim(d);
      const auto td = static_cast<std::ptrdiff_t>(d) - static_cast<std::ptrdiff_t>(rank - t.rank());
      if (td < 0) continue;
      const auto size = t.dim(static_cast<std::size_t>(td));
      src += (size == 1 ? 0 : k) * stride;
      stride *= size;
    }
    return src;
  };
  const bool integer = is_integer(a.dtype());
  for (std::int64_t i = 0; i < out.numel(); ++i) {
    const auto ia = source(a, i), ib = source(b, i);
    if (integer) {
      store(out, i, arithmetic(n.op, int_at(a, ia), int_at(b, ib)), 0.0, true);
    } else {
      double r = arithmetic(n.op, a.element_as_double(ia), b.element_as_double(ib));
      // float32 arithmetic, as a kernel would do it
      if (a.dtype() == DType::Float32) r = static_cast<float>(r);
      store(out, i, 0, r, false);
    }
  }
  return out;
}

}  // namespace

std::vector<OutputInfo> infer_binary(const Graph& g, const Node& n) {
  expect_arity(n, 2, 2);
  const auto& a = g.value(n.inputs[0]);
  const auto& b = g.value(n.inputs[1]);
  if (a.dtype != b.dtype) {
    throw_error(ErrorKind::BadInput,
                fmt::format("inputs have different dtypes ({} and {})", dtype_name(a.dtype), dtype_name(b.dtype)));
  }
  if (!a.dims || !b.dims) return {{a.dtype, std::nullopt}};
  return {{a.dtype, broadcast_dims(*a.dims, *b.dims)}};
}

BatchRows binary_batch_rows(const Graph& g, const Node& n) {
  // A constant operand broadcasts over the batch only if it has no batch rows of its own.
  for (auto in : n.inputs) {
    if (g.is_constant(in) && g.value(in).dims && value_rank(g, in) == value_rank(g, n.outputs[0]) &&
        !(*g.value(in).dims)[0].is(1)) {
      return BatchRows::Mixed;
    }
  }
  return BatchRows::KeptApartIfInputsBatched;
}

std::vector<Tensor> eval_binary(const Graph& g, const Node& n) { return {binary_tensor(g, n)}; }

}  // namespace pt2onnx::runtime
