// Concat, Pad, Transpose, Slice, Gather: their shape rules, batch rows,
// constant evaluation and limits.
#include "runtime/ops/layout.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "runtime/constant_eval.h"
#include "runtime/op_util.h"
#include "runtime/shape_inference.h"
#include "runtime/support.h"

namespace pt2onnx::runtime {
namespace {

Tensor concat_tensor(const Graph& g, const Node& n) {
  Tensor out(constant_input(g, n, 0).dtype(), output_shape(g, n));
  const auto rank = static_cast<std::int64_t>(out.rank());
  const auto axis = static_cast<std::size_t>(normalize_axis(n.attrs.get_int("axis", 0), rank, "axis"));
  std::int64_t outer = 1;
  for (std::size_t i = 0; i < axis; ++i) outer *= out.dim(i);
  std::size_t pos = 0;
  for (std::int64_t o = 0; o < outer; ++o) {
    for (std::size_t k = 0; k < n.inputs.size(); ++k) {
      const auto& t = constant_input(g, n, k);
      const auto block = t.nbytes() / static_cast<std::size_t>(outer);
      if (block != 0)
        std::memcpy(out.bytes().data() + pos, t.bytes().data() + static_cast<std::size_t>(o) * block, block);
      pos += block;
    }
  }
  return out;
}

Tensor transpose_tensor(const Graph& g, const Node& n) {
  const auto& in = constant_input(g, n, 0);
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

Tensor slice_tensor(const Graph& g, const Node& n) {
  const auto& in = constant_input(g, n, 0);
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

Tensor gather_tensor(const Graph& g, const Node& n) {
  const auto& data = constant_input(g, n, 0);
  const auto& idx = constant_input(g, n, 1);
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

}  // namespace

std::vector<OutputInfo> infer_concat(const Graph& g, const Node& n) {
  if (n.inputs.empty()) throw_error(ErrorKind::BadInput, "has no inputs");
  const auto dtype = input_dtype(g, n, 0);
  const auto axis_attr = n.attrs.find_int("axis");
  if (!axis_attr) throw_error(ErrorKind::BadInput, "axis is required");
  MaybeDims out;
  for (std::size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i] == kNoValue) throw_error(ErrorKind::BadInput, "an input is missing");
    if (input_dtype(g, n, i) != dtype) throw_error(ErrorKind::BadInput, "inputs have different dtypes");
    const auto& d = input_dims(g, n, i);
    if (!d) return {{dtype, std::nullopt}};
    const auto axis =
        static_cast<std::size_t>(normalize_axis(*axis_attr, static_cast<std::int64_t>(d->size()), "axis"));
    if (!out) {
      out = *d;
      continue;
    }
    if (out->size() != d->size()) throw_error(ErrorKind::BadInput, "inputs have different ranks");
    for (std::size_t k = 0; k < d->size(); ++k) {
      auto& o = (*out)[k];
      if (k == axis) {
        o = o.is_known() && (*d)[k].is_known() ? Dim::known(o.value() + (*d)[k].value()) : Dim();
      } else if (o.is_known() && (*d)[k].is_known() && o.value() != (*d)[k].value()) {
        throw_error(ErrorKind::BadInput,
                    fmt::format("input {} is {}, which does not concatenate on axis {} with the others", i,
                                dims_to_string(*d), *axis_attr));
      } else if (!o.is_known()) {
        o = (*d)[k];
      }
    }
  }
  return {{dtype, out}};
}

BatchRows concat_batch_rows(const Graph& g, const Node& n) {
  return normalize_axis(n.attrs.get_int("axis", 0), value_rank(g, n.outputs[0]), "axis") != 0 ? BatchRows::KeptApart
                                                                                              : BatchRows::Mixed;
}

std::vector<Tensor> eval_concat(const Graph& g, const Node& n) { return {concat_tensor(g, n)}; }

std::vector<OutputInfo> infer_pad(const Graph& g, const Node& n) {
  expect_arity(n, 1, g.opset < 11 ? 1 : 4);
  const auto dtype = input_dtype(g, n, 0);
  const auto& x = input_dims(g, n, 0);
  if (!x) return {{dtype, std::nullopt}};
  const auto spec = pad_spec(g, n, x->size());
  if (!spec) return {{dtype, Dims(x->size())}};
  Dims out = *x;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i].is_known()) {
      out[i] = Dim::known(out[i].value() + spec->begin[i] + spec->end[i]);
    } else if (spec->begin[i] + spec->end[i] != 0) {
      out[i] = Dim();
    }
  }
  return {{dtype, out}};
}

std::vector<OutputInfo> infer_transpose(const Graph& g, const Node& n) {
  expect_arity(n, 1, 1);
  const auto dtype = input_dtype(g, n, 0);
  const auto& x = input_dims(g, n, 0);
  if (!x) return {{dtype, std::nullopt}};
  Dims out;
  for (auto p : transpose_perm(n, x->size())) out.push_back((*x)[static_cast<std::size_t>(p)]);
  return {{dtype, out}};
}

BatchRows transpose_batch_rows(const Graph& g, const Node& n) {
  if (transpose_perm(n, static_cast<std::size_t>(value_rank(g, n.inputs[0])))[0] != 0) return BatchRows::Mixed;
  return BatchRows::KeptApartIfInputsBatched;
}

std::vector<Tensor> eval_transpose(const Graph& g, const Node& n) { return {transpose_tensor(g, n)}; }

std::vector<OutputInfo> infer_slice(const Graph& g, const Node& n) {
  expect_arity(n, g.opset < 10 ? 1 : 3, g.opset < 10 ? 1 : 5);
  const auto dtype = input_dtype(g, n, 0);
  const auto& x = input_dims(g, n, 0);
  if (!x) return {{dtype, std::nullopt}};
  const auto p = slice_params(g, n, x->size());
  Dims out = *x;
  if (!p) return {{dtype, Dims(x->size())}};
  for (std::size_t i = 0; i < p->axes.size(); ++i) {
    auto& d = out[static_cast<std::size_t>(p->axes[i])];
    d = d.is_known() ? Dim::known(resolve_slice_axis(p->starts[i], p->ends[i], p->steps[i], d.value()).length) : Dim();
  }
  return {{dtype, out}};
}

// On a computed float tensor: row-wise unless it slices the batch axis.
BatchRows slice_batch_rows(const Graph& g, const Node& n) {
  const auto p = slice_params(g, n, static_cast<std::size_t>(value_rank(g, n.inputs[0])));
  if (!p || std::find(p->axes.begin(), p->axes.end(), 0) != p->axes.end()) return BatchRows::Mixed;
  return BatchRows::KeptApartIfInputsBatched;
}

std::vector<Tensor> eval_slice(const Graph& g, const Node& n) { return {slice_tensor(g, n)}; }

std::vector<OutputInfo> infer_gather(const Graph& g, const Node& n) {
  expect_arity(n, 2, 2);
  const auto dtype = input_dtype(g, n, 0);
  const auto& x = input_dims(g, n, 0);
  const auto& idx = input_dims(g, n, 1);
  const auto idt = input_dtype(g, n, 1);
  if (idt != DType::Int64 && idt != DType::Int32) throw_error(ErrorKind::BadInput, "indices must be int64 or int32");
  if (!x || !idx) return {{dtype, std::nullopt}};
  const auto axis = static_cast<std::size_t>(
      normalize_axis(n.attrs.get_int("axis", 0), static_cast<std::int64_t>(x->size()), "axis"));
  Dims out(x->begin(), x->begin() + static_cast<std::ptrdiff_t>(axis));
  out.insert(out.end(), idx->begin(), idx->end());
  out.insert(out.end(), x->begin() + static_cast<std::ptrdiff_t>(axis) + 1, x->end());
  return {{dtype, out}};
}

// On a computed float tensor: row-wise unless it picks along the batch axis.
BatchRows gather_batch_rows(const Graph& g, const Node& n) {
  if (!g.is_constant(n.inputs[1]) ||
      normalize_axis(n.attrs.get_int("axis", 0), value_rank(g, n.inputs[0]), "axis") == 0) {
    return BatchRows::Mixed;
  }
  return BatchRows::KeptApartIfInputsBatched;
}

std::vector<Tensor> eval_gather(const Graph& g, const Node& n) { return {gather_tensor(g, n)}; }

void check_gather_support(const Graph& g, const Node& n, const std::vector<bool>& known) {
  // A computed tensor picked from by indices known before the run (x[:, 0]).
  if (n.inputs.size() > 1 && !known[static_cast<std::size_t>(n.inputs[1])]) {
    throw_error(ErrorKind::Unsupported,
                fmt::format("Gather of a computed tensor needs indices known before the run; '{}' is "
                            "computed",
                            g.value(n.inputs[1]).name));
  }
  check_kernel_inputs(g, n, known);
}

}  // namespace pt2onnx::runtime
