#include "runtime/constant_eval.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include <fmt/format.h>

#include "runtime/op_util.h"

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

bool is_integer(DType d) { return !dtype_is_floating(d) && d != DType::Bool; }

std::int64_t int_at(const Tensor& t, std::int64_t i) {
  if (t.dtype() == DType::Int64) {
    std::int64_t v = 0;
    std::memcpy(&v, t.bytes().data() + static_cast<std::size_t>(i) * 8, 8);
    return v;
  }
  return static_cast<std::int64_t>(t.element_as_double(i));
}

template <typename T>
void put(Tensor& t, std::int64_t i, T v) {
  std::memcpy(t.bytes().data() + static_cast<std::size_t>(i) * sizeof(T), &v, sizeof(T));
}

// Stores an integer or real value in t's dtype.
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

const Tensor& input(const Graph& g, const Node& n, std::size_t i) { return *g.value(n.inputs.at(i)).constant; }

Shape output_shape(const Graph& g, const Node& n, std::size_t i = 0) { return concrete_shape(g, n.outputs.at(i)); }

Tensor eval_shape(const Graph& g, const Node& n) {
  const auto dims = concrete_shape(g, n.inputs[0]);
  const auto rank = static_cast<std::int64_t>(dims.size());
  auto clamp_axis = [rank](std::int64_t a) { return std::clamp<std::int64_t>(a < 0 ? a + rank : a, 0, rank); };
  const auto start = clamp_axis(n.attrs.get_int("start", 0));
  const auto end = std::max(start, clamp_axis(n.attrs.get_int("end", rank)));
  Tensor out(DType::Int64, {end - start});
  for (auto i = start; i < end; ++i) put(out, i - start, dims[static_cast<std::size_t>(i)]);
  return out;
}

Tensor eval_gather(const Graph& g, const Node& n) {
  const auto& data = input(g, n, 0);
  const auto& idx = input(g, n, 1);
  const auto axis = static_cast<std::size_t>(
      normalize_axis(n.attrs.get_int("axis", 0), static_cast<std::int64_t>(data.rank()), "axis"));
  const auto dim = data.dim(axis);
  std::int64_t outer = 1;
  for (std::size_t i = 0; i < axis; ++i) outer *= data.dim(i);
  std::int64_t inner = 1;
  for (std::size_t i = axis + 1; i < data.rank(); ++i) inner *= data.dim(i);
  const auto block = static_cast<std::size_t>(inner) * dtype_size(data.dtype());
  Tensor out(data.dtype(), output_shape(g, n));
  std::size_t pos = 0;
  for (std::int64_t o = 0; o < outer; ++o) {
    for (std::int64_t j = 0; j < idx.numel(); ++j) {
      auto k = int_at(idx, j);
      if (k < -dim || k >= dim)
        throw_error(ErrorKind::BadInput, fmt::format("index {} is out of range for size {}", k, dim));
      if (k < 0) k += dim;
      const auto src = (static_cast<std::size_t>(o * dim + k)) * block;
      if (block != 0) std::memcpy(out.bytes().data() + pos, data.bytes().data() + src, block);
      pos += block;
    }
  }
  return out;
}

Tensor eval_concat(const Graph& g, const Node& n) {
  Tensor out(input(g, n, 0).dtype(), output_shape(g, n));
  const auto rank = static_cast<std::int64_t>(out.rank());
  const auto axis = static_cast<std::size_t>(normalize_axis(n.attrs.get_int("axis", 0), rank, "axis"));
  std::int64_t outer = 1;
  for (std::size_t i = 0; i < axis; ++i) outer *= out.dim(i);
  std::size_t pos = 0;
  for (std::int64_t o = 0; o < outer; ++o) {
    for (std::size_t k = 0; k < n.inputs.size(); ++k) {
      const auto& t = input(g, n, k);
      const auto block = t.nbytes() / static_cast<std::size_t>(outer);
      if (block != 0)
        std::memcpy(out.bytes().data() + pos, t.bytes().data() + static_cast<std::size_t>(o) * block, block);
      pos += block;
    }
  }
  return out;
}

Tensor eval_cast(const Graph& g, const Node& n) {
  const auto& in = input(g, n, 0);
  Tensor out(g.value(n.outputs[0]).dtype, in.shape());
  const bool integer = is_integer(in.dtype()) || in.dtype() == DType::Bool;
  for (std::int64_t i = 0; i < in.numel(); ++i) {
    store(out, i, integer ? int_at(in, i) : 0, integer ? 0.0 : in.element_as_double(i), integer);
  }
  return out;
}

Tensor eval_slice(const Graph& g, const Node& n) {
  const auto& in = input(g, n, 0);
  const auto p = slice_params(g, n, in.rank());
  std::vector<SliceRange> ranges(in.rank());
  for (std::size_t a = 0; a < in.rank(); ++a) ranges[a] = {0, 1, in.dim(a)};
  for (std::size_t i = 0; i < p->axes.size(); ++i) {
    const auto a = static_cast<std::size_t>(p->axes[i]);
    ranges[a] = resolve_slice_axis(p->starts[i], p->ends[i], p->steps[i], in.dim(a));
  }
  Tensor out(in.dtype(), output_shape(g, n));
  const auto elem = dtype_size(in.dtype());
  std::vector<std::int64_t> stride(in.rank(), 1);
  for (auto a = in.rank(); a-- > 1;) stride[a - 1] = stride[a] * in.dim(a);
  for (std::int64_t i = 0; i < out.numel(); ++i) {
    std::int64_t rest = i, src = 0;
    for (auto a = in.rank(); a-- > 0;) {
      const auto len = ranges[a].length;
      const auto k = rest % len;
      rest /= len;
      src += (ranges[a].start + k * ranges[a].step) * stride[a];
    }
    std::memcpy(out.bytes().data() + static_cast<std::size_t>(i) * elem,
                in.bytes().data() + static_cast<std::size_t>(src) * elem, elem);
  }
  return out;
}

Tensor eval_binary(const Graph& g, const Node& n) {
  const auto& a = input(g, n, 0);
  const auto& b = input(g, n, 1);
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

Tensor eval_transpose(const Graph& g, const Node& n) {
  const auto& in = input(g, n, 0);
  const auto perm = transpose_perm(n, in.rank());
  Tensor out(in.dtype(), output_shape(g, n));
  const auto elem = dtype_size(in.dtype());
  std::vector<std::int64_t> in_stride(in.rank(), 1);
  for (auto a = in.rank(); a-- > 1;) in_stride[a - 1] = in_stride[a] * in.dim(a);
  for (std::int64_t i = 0; i < out.numel(); ++i) {
    std::int64_t rest = i, src = 0;
    for (auto a = out.rank(); a-- > 0;) {
      src += (rest % out.dim(a)) * in_stride[static_cast<std::size_t>(perm[a])];
      rest /= out.dim(a);
    }
    std::memcpy(out.bytes().data() + static_cast<std::size_t>(i) * elem,
                in.bytes().data() + static_cast<std::size_t>(src) * elem, elem);
  }
  return out;
}

}  // namespace

bool can_evaluate(const Graph& g, const Node& n) {
  if (!is_shape_op(n.op)) return false;
  for (auto out : n.outputs) {
    const auto& d = g.value(out).dims;
    if (!d || !all_known(*d)) return false;
  }
  if (n.op == OpType::Shape) {
    const auto& d = g.value(n.inputs.at(0)).dims;
    return d && all_known(*d);
  }
  for (auto in : n.inputs) {
    if (in != kNoValue && !g.is_constant(in)) return false;
  }
  return true;
}

std::vector<Tensor> evaluate(const Graph& g, const Node& n) {
  switch (n.op) {
    case OpType::Shape:
      return {eval_shape(g, n)};
    case OpType::Gather:
      return {eval_gather(g, n)};
    case OpType::Concat:
      return {eval_concat(g, n)};
    case OpType::Cast:
      return {eval_cast(g, n)};
    case OpType::Slice:
      return {eval_slice(g, n)};
    case OpType::Transpose:
      return {eval_transpose(g, n)};
    case OpType::Add:
    case OpType::Sub:
    case OpType::Mul:
    case OpType::Div:
      return {eval_binary(g, n)};
    case OpType::Dropout: {
      std::vector<Tensor> outs{input(g, n, 0)};
      if (n.outputs.size() > 1) {
        Tensor mask(DType::Bool, output_shape(g, n, 1));
        std::memset(mask.bytes().data(), 1, mask.nbytes());
        outs.push_back(std::move(mask));
      }
      return outs;
    }
    // Pure re-shapes: the same elements in the same order.
    case OpType::Squeeze:
    case OpType::Unsqueeze:
    case OpType::Reshape:
    case OpType::Flatten:
    case OpType::Identity:
      return {input(g, n, 0).reshaped(output_shape(g, n))};
    default:
      break;
  }
  throw_error(ErrorKind::Internal, fmt::format("{} is not a shape op", describe_node(n)));
}

}  // namespace pt2onnx::runtime
