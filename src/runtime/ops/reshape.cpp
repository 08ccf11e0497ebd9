// Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout: their shape
// rules, constant evaluation and limits.
#include "runtime/ops/reshape.h"

#include <cstring>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runtime/constant_eval.h"
#include "runtime/op_util.h"
#include "runtime/shape_inference.h"
#include "runtime/support.h"

namespace pt2onnx::runtime {

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

std::vector<OutputInfo> infer_identity(const Graph& g, const Node& n) {
  expect_arity(n, 1, 1);
  return same_as_input(g, n);
}

std::vector<OutputInfo> infer_dropout(const Graph& g, const Node& n) {
  expect_arity(n, 1, 3);
  auto out = same_as_input(g, n);
  if (n.outputs.size() > 1) out.push_back({DType::Bool, g.value(n.inputs[0]).dims});
  return out;
}

std::vector<Tensor> eval_view(const Graph& g, const Node& n) {
  return {constant_input(g, n, 0).reshaped(output_shape(g, n))};
}

std::vector<Tensor> eval_dropout(const Graph& g, const Node& n) {
  std::vector<Tensor> outs{constant_input(g, n, 0)};
  if (n.outputs.size() > 1) {
    Tensor mask(DType::Bool, output_shape(g, n, 1));
    std::memset(mask.bytes().data(), 1, mask.nbytes());
    outs.push_back(std::move(mask));
  }
  return outs;
}

void check_dropout_support(const Graph& g, const Node& n, const std::vector<bool>& known) {
  check_kernel_inputs(g, n, known);
  if (output_in_use(g, n, 1)) throw_error(ErrorKind::Unsupported, "the mask output of Dropout is not supported");
  if (!dropout_is_identity(g, n)) {
    throw_error(ErrorKind::Unsupported, "training_mode must be a constant false, or the ratio a constant 0");
  }
}

}  // namespace pt2onnx::runtime
