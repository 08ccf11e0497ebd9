// Mod, Pow and Not: their shape rules, batch rows, constant evaluation and
// limits.
#include "runtime/ops/math.h"

#include <cmath>

#include <fmt/format.h>

#include "runtime/constant_eval.h"
#include "runtime/op_util.h"
#include "runtime/shape_inference.h"
#include "runtime/support.h"

namespace pt2onnx::runtime {
namespace {

bool is_numeric(DType d) { return d != DType::Bool; }

// The broadcast dims of inputs 0 and 1, or unknown.
MaybeDims broadcast_inputs(const Graph& g, const Node& n) {
  const auto& a = input_dims(g, n, 0);
  const auto& b = input_dims(g, n, 1);
  if (!a || !b) return std::nullopt;
  return broadcast_dims(*a, *b);
}

// Mod's 'fmod' attribute: 0 (the sign of the divisor, integers only) or 1
// (the sign of the dividend, as C's fmod; required for floating point).
bool mod_is_fmod(const Graph& g, const Node& n) {
  const auto fmod = n.attrs.get_int("fmod", 0);
  if (fmod != 0 && fmod != 1) {
    throw_error(ErrorKind::BadInput, fmt::format("'fmod' is {}; it must be 0 or 1", fmod));
  }
  if (fmod == 0 && dtype_is_floating(input_dtype(g, n, 0))) {
    throw_error(ErrorKind::BadInput, fmt::format("'fmod' is 0 on {} inputs; floating-point Mod needs fmod=1",
                                                 dtype_name(input_dtype(g, n, 0))));
  }
  return fmod == 1;
}

std::int64_t integer_mod(std::int64_t a, std::int64_t b, bool fmod) {
  if (b == 0) throw_error(ErrorKind::BadInput, "integer Mod by zero");
  // -2^63 % -1 overflows in C++; its remainder is 0 either way.
  if (b == -1) return 0;
  const auto r = a % b;
  if (!fmod && r != 0 && ((r < 0) != (b < 0))) return r + b;
  return r;
}

// base^exponent for integers, exact for exponents >= 0 (wrapping as int64 does
// on overflow); a negative exponent truncates the real power toward zero.
std::int64_t integer_pow(std::int64_t base, std::int64_t exponent) {
  if (exponent < 0)
    return static_cast<std::int64_t>(std::pow(static_cast<double>(base), static_cast<double>(exponent)));
  std::uint64_t result = 1, b = static_cast<std::uint64_t>(base);
  for (auto e = static_cast<std::uint64_t>(exponent); e != 0; e >>= 1) {
    if ((e & 1U) != 0) result *= b;
    b *= b;
  }
  return static_cast<std::int64_t>(result);
}

void check_float32_data(const Graph& g, ValueId v) {
  const auto& value = g.value(v);
  if (value.dtype != DType::Float32) {
    throw_error(ErrorKind::Unsupported,
                fmt::format("input '{}' is {}; the engine computes in float32", value.name, dtype_name(value.dtype)));
  }
}

}  // namespace

std::vector<OutputInfo> infer_mod(const Graph& g, const Node& n) {
  expect_arity(n, 2, 2);
  const auto dtype = input_dtype(g, n, 0);
  if (input_dtype(g, n, 1) != dtype) {
    throw_error(ErrorKind::BadInput, fmt::format("inputs have different dtypes ({} and {})", dtype_name(dtype),
                                                 dtype_name(input_dtype(g, n, 1))));
  }
  if (!is_numeric(dtype)) throw_error(ErrorKind::BadInput, "Mod needs numeric inputs");
  mod_is_fmod(g, n);
  return {{dtype, broadcast_inputs(g, n)}};
}

std::vector<OutputInfo> infer_pow(const Graph& g, const Node& n) {
  expect_arity(n, 2, 2);
  const auto dtype = input_dtype(g, n, 0);
  if (!is_numeric(dtype) || !is_numeric(input_dtype(g, n, 1))) {
    throw_error(ErrorKind::BadInput, "Pow needs numeric inputs");
  }
  return {{dtype, broadcast_inputs(g, n)}};
}

std::vector<OutputInfo> infer_not(const Graph& g, const Node& n) {
  expect_arity(n, 1, 1);
  if (input_dtype(g, n, 0) != DType::Bool) throw_error(ErrorKind::BadInput, "Not needs a bool input");
  return same_as_input(g, n);
}

BatchRows math_batch_rows(const Graph& g, const Node& n) {
  // A constant operand broadcasts over the batch only if it has no batch rows of its own.
  for (auto in : n.inputs) {
    if (g.is_constant(in) && g.value(in).dims && value_rank(g, in) == value_rank(g, n.outputs[0]) &&
        !(*g.value(in).dims)[0].is(1)) {
      return BatchRows::Mixed;
    }
  }
  return BatchRows::KeptApartIfInputsBatched;
}

std::vector<Tensor> eval_mod(const Graph& g, const Node& n) {
  const auto& a = constant_input(g, n, 0);
  const auto& b = constant_input(g, n, 1);
  const bool fmod = mod_is_fmod(g, n);
  Tensor out(a.dtype(), output_shape(g, n));
  const bool integer = is_integer(a.dtype());
  const bool single = a.dtype() == DType::Float32;
  for_each_broadcast<2>({&a, &b}, out.shape(), [&](std::int64_t i, const std::array<std::int64_t, 2>& s) {
    if (integer) {
      store(out, i, integer_mod(int_at(a, s[0]), int_at(b, s[1]), fmod), 0.0, true);
    } else if (single) {
      store(out, i, 0,
            std::fmod(static_cast<float>(a.element_as_double(s[0])), static_cast<float>(b.element_as_double(s[1]))),
            false);
    } else {
      store(out, i, 0, std::fmod(a.element_as_double(s[0]), b.element_as_double(s[1])), false);
    }
  });
  return {out};
}

std::vector<Tensor> eval_pow(const Graph& g, const Node& n) {
  const auto& a = constant_input(g, n, 0);
  const auto& b = constant_input(g, n, 1);
  Tensor out(a.dtype(), output_shape(g, n));
  const bool integer = is_integer(a.dtype());
  const bool integer_exponent = is_integer(b.dtype());
  const bool single = a.dtype() == DType::Float32;
  for_each_broadcast<2>({&a, &b}, out.shape(), [&](std::int64_t i, const std::array<std::int64_t, 2>& s) {
    if (integer) {
      if (integer_exponent) {
        store(out, i, integer_pow(int_at(a, s[0]), int_at(b, s[1])), 0.0, true);
      } else {
        store(out, i, 0, std::trunc(std::pow(a.element_as_double(s[0]), b.element_as_double(s[1]))), false);
      }
    } else if (single) {
      // float32 arithmetic, as the kernel does it
      store(out, i, 0,
            std::pow(static_cast<float>(a.element_as_double(s[0])), static_cast<float>(b.element_as_double(s[1]))),
            false);
    } else {
      store(out, i, 0, std::pow(a.element_as_double(s[0]), b.element_as_double(s[1])), false);
    }
  });
  return {out};
}

std::vector<Tensor> eval_not(const Graph& g, const Node& n) {
  const auto& x = constant_input(g, n, 0);
  Tensor out(DType::Bool, x.shape());
  for (std::int64_t i = 0; i < x.numel(); ++i) store(out, i, x.element_as_double(i) != 0.0 ? 0 : 1, 0.0, true);
  return {out};
}

void check_mod_support(const Graph& g, const Node& n, const std::vector<bool>& /*known*/) {
  check_float32_data(g, n.inputs[0]);
  check_float32_data(g, n.inputs[1]);
}

void check_pow_support(const Graph& g, const Node& n, const std::vector<bool>& known) {
  check_float32_data(g, n.inputs[0]);
  // A computed exponent must be float32; a known one may be any numeric dtype.
  if (!known[static_cast<std::size_t>(n.inputs[1])]) check_float32_data(g, n.inputs[1]);
}

}  // namespace pt2onnx::runtime
