// Shape rules for the layout operators and the shape computations around them.
#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runtime/op_util.h"
#include "runtime/shape_inference.h"

namespace pt2onnx::runtime {
namespace {

DType input_dtype(const Graph& g, const Node& n, std::size_t i) { return g.value(n.inputs.at(i)).dtype; }

}  // namespace

std::vector<OutputInfo> infer_flatten(const Graph& g, const Node& n) {
  expect_arity(n, 1, 1);
  const auto& x = input_dims(g, n, 0);
  if (!x) return {{input_dtype(g, n, 0), Dims(2)}};
  const auto rank = static_cast<std::int64_t>(x->size());
  auto axis = n.attrs.get_int("axis", 1);
  if (axis < -rank || axis > rank)
    throw_error(ErrorKind::BadInput, fmt::format("axis {} is out of range for rank {}", axis, rank));
  if (axis < 0) axis += rank;
  const auto split = static_cast<std::size_t>(axis);
  return {{input_dtype(g, n, 0), Dims{dims_product(*x, 0, split), dims_product(*x, split, x->size())}}};
}

std::vector<OutputInfo> infer_reshape(const Graph& g, const Node& n) {
  expect_arity(n, 2, 2);
  const auto dtype = input_dtype(g, n, 0);
  const auto target = constant_ints(g, n.inputs[1]);
  if (!target) {
    // Computed at run time from a Shape chain: the rank is known if the shape's length is.
    const auto& sd = input_dims(g, n, 1);
    if (sd && sd->size() == 1 && (*sd)[0].is_known())
      return {{dtype, Dims(static_cast<std::size_t>((*sd)[0].value()))}};
    return {{dtype, std::nullopt}};
  }
  const bool allowzero = n.attrs.get_int("allowzero", 0) != 0;
  const auto& x = input_dims(g, n, 0);
  Dims out;
  int infer_at = -1;
  for (std::size_t i = 0; i < target->size(); ++i) {
    const auto t = (*target)[i];
    if (t == -1) {
      if (infer_at >= 0) throw_error(ErrorKind::BadInput, "the shape has more than one -1");
      infer_at = static_cast<int>(i);
      out.emplace_back();
    } else if (t == 0 && !allowzero) {
      if (!x) {
        out.emplace_back();
      } else if (i >= x->size()) {
        throw_error(ErrorKind::BadInput, fmt::format("the shape copies dim {} of a rank-{} input", i, x->size()));
      } else {
        out.push_back((*x)[i]);
      }
    } else if (t < 0) {
      throw_error(ErrorKind::BadInput, fmt::format("the shape has the negative size {}", t));
    } else {
      out.push_back(Dim::known(t));
    }
  }
  if (!x) return {{dtype, out}};
  // Element counts as (product of known dims) x (multiset of symbols).
  std::int64_t in_known = 1;
  std::map<int, int> symbols;
  for (const auto& d : *x) {
    if (d.is_known()) {
      in_known *= d.value();
    } else if (d.is_symbol()) {
      ++symbols[d.symbol_id()];
    } else {
      return {{dtype, out}};
    }
  }
  std::int64_t out_known = 1;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (static_cast<int>(i) == infer_at) continue;
    if (out[i].is_known()) {
      out_known *= out[i].value();
    } else if (out[i].is_symbol() && symbols[out[i].symbol_id()] > 0) {
      --symbols[out[i].symbol_id()];
    } else {
      return {{dtype, out}};
    }
  }
  int left = 0;
  Dim left_symbol;
  for (auto [id, count] : symbols) {
    left += count;
    if (count > 0) left_symbol = Dim::symbol(id);
  }
  if (infer_at < 0) {
    if (left == 0 && in_known != out_known) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("cannot reshape {} to [{}]", dims_to_string(*x), fmt::join(*target, ", ")));
    }
    return {{dtype, out}};
  }
  if (left == 0) {
    if (out_known == 0 || in_known % out_known != 0) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("cannot reshape {} to [{}]", dims_to_string(*x), fmt::join(*target, ", ")));
    }
    out[static_cast<std::size_t>(infer_at)] = Dim::known(in_known / out_known);
  } else if (left == 1 && in_known == out_known) {
    out[static_cast<std::size_t>(infer_at)] = left_symbol;
  }
  return {{dtype, out}};
}

std::vector<OutputInfo> infer_squeeze(const Graph& g, const Node& n) {
  expect_arity(n, 1, 2);
  const auto dtype = input_dtype(g, n, 0);
  const auto& x = input_dims(g, n, 0);
  if (!x) return {{dtype, std::nullopt}};
  const auto rank = static_cast<std::int64_t>(x->size());
  const auto axes = squeeze_axes(g, n);
  std::vector<bool> drop(x->size(), false);
  if (!axes) {
    for (std::size_t i = 0; i < x->size(); ++i) {
      if (!(*x)[i].is_known()) return {{dtype, std::nullopt}};
      drop[i] = (*x)[i].value() == 1;
    }
  } else {
    for (auto a : *axes) {
      const auto i = static_cast<std::size_t>(normalize_axis(a, rank, "axis"));
      if ((*x)[i].is_known() && (*x)[i].value() != 1) {
        throw_error(ErrorKind::BadInput, fmt::format("cannot squeeze axis {} of {}", a, dims_to_string(*x)));
      }
      drop[i] = true;
    }
  }
  Dims out;
  for (std::size_t i = 0; i < x->size(); ++i) {
    if (!drop[i]) out.push_back((*x)[i]);
  }
  return {{dtype, out}};
}

std::vector<OutputInfo> infer_unsqueeze(const Graph& g, const Node& n) {
  expect_arity(n, 1, 2);
  const auto dtype = input_dtype(g, n, 0);
  const auto axes = squeeze_axes(g, n);
  if (!axes) throw_error(ErrorKind::BadInput, "axes are required");
  const auto& x = input_dims(g, n, 0);
  if (!x) return {{dtype, std::nullopt}};
  const auto out_rank = static_cast<std::int64_t>(x->size() + axes->size());
  std::vector<bool> inserted(static_cast<std::size_t>(out_rank), false);
  for (auto a : *axes) {
    const auto i = static_cast<std::size_t>(normalize_axis(a, out_rank, "axis"));
    if (inserted[i]) throw_error(ErrorKind::BadInput, fmt::format("axis {} is repeated", a));
    inserted[i] = true;
  }
  Dims out;
  std::size_t next = 0;
  for (std::size_t i = 0; i < inserted.size(); ++i) out.push_back(inserted[i] ? Dim::known(1) : (*x)[next++]);
  return {{dtype, out}};
}

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

std::vector<OutputInfo> infer_transpose(const Graph& g, const Node& n) {
  expect_arity(n, 1, 1);
  const auto dtype = input_dtype(g, n, 0);
  const auto& x = input_dims(g, n, 0);
  if (!x) return {{dtype, std::nullopt}};
  Dims out;
  for (auto p : transpose_perm(n, x->size())) out.push_back((*x)[static_cast<std::size_t>(p)]);
  return {{dtype, out}};
}

}  // namespace pt2onnx::runtime
