#include "runtime/op_util.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace pt2onnx::runtime {

std::optional<std::vector<std::int64_t>> constant_ints(const Graph& g, ValueId v) {
  if (v == kNoValue || !g.is_constant(v)) return std::nullopt;
  const auto& t = *g.value(v).constant;
  if (t.dtype() != DType::Int64 && t.dtype() != DType::Int32) {
    throw_error(ErrorKind::BadInput, fmt::format("'{}' must be int64, not {}", g.value(v).name, dtype_name(t.dtype())));
  }
  std::vector<std::int64_t> out(static_cast<std::size_t>(t.numel()));
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (t.dtype() == DType::Int64) {
      std::memcpy(&out[i], t.bytes().data() + i * sizeof(std::int64_t), sizeof(std::int64_t));
    } else {
      std::int32_t x = 0;
      std::memcpy(&x, t.bytes().data() + i * sizeof(std::int32_t), sizeof(std::int32_t));
      out[i] = x;
    }
  }
  return out;
}

std::optional<float> constant_scalar(const Graph& g, ValueId v) {
  if (v == kNoValue || !g.is_constant(v)) return std::nullopt;
  const auto& t = *g.value(v).constant;
  if (t.numel() != 1) return std::nullopt;
  return static_cast<float>(t.element_as_double(0));
}

std::int64_t normalize_axis(std::int64_t axis, std::int64_t rank, std::string_view what) {
  if (axis < -rank || axis >= rank) {
    throw_error(ErrorKind::BadInput, fmt::format("{} {} is out of range for rank {}", what, axis, rank));
  }
  return axis < 0 ? axis + rank : axis;
}

Dims broadcast_dims(const Dims& a, const Dims& b) {
  const auto rank = std::max(a.size(), b.size());
  Dims out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    const Dim da = i < rank - a.size() ? Dim::known(1) : a[i - (rank - a.size())];
    const Dim db = i < rank - b.size() ? Dim::known(1) : b[i - (rank - b.size())];
    if (da.is(1)) {
      out[i] = db;
    } else if (db.is(1) || da.same_as(db)) {
      out[i] = da;
    } else if (da.is_known() && db.is_known()) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("shapes {} and {} do not broadcast", dims_to_string(a), dims_to_string(b)));
    } else {
      out[i] = da.is_known() ? da : db.is_known() ? db : Dim();  // the other must be 1 or equal
    }
  }
  return out;
}

std::vector<std::int64_t> broadcast_shapes(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b) {
  return known_values(broadcast_dims(dims_from_values(a), dims_from_values(b)));
}

BroadcastRows broadcast_rows(const std::vector<std::int64_t>& in, const std::vector<std::int64_t>& out) {
  if (in.size() > out.size()) {
    throw_error(ErrorKind::BadInput,
                fmt::format("shape {} does not broadcast to {}", dims_to_string(dims_from_values(in)),
                            dims_to_string(dims_from_values(out))));
  }
  const auto lead = out.size() - in.size();
  // The input's stride per output axis, 0 where it broadcasts.
  std::vector<std::int64_t> stride(out.size(), 0);
  std::int64_t s = 1;
  for (auto a = out.size(); a-- > lead;) {
    const auto d = in[a - lead];
    if (d != out[a] && d != 1) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("shape {} does not broadcast to {}", dims_to_string(dims_from_values(in)),
                              dims_to_string(dims_from_values(out))));
    }
    stride[a] = d == 1 ? 0 : s;
    s *= d;
  }
  BroadcastRows r;
  if (out.empty()) {
    r.row_start = {0};
    return r;
  }
  r.row_length = out.back();
  r.step = stride.back();
  std::int64_t rows = 1;
  for (std::size_t a = 0; a + 1 < out.size(); ++a) rows *= out[a];
  r.row_start.resize(static_cast<std::size_t>(rows));
  for (std::int64_t i = 0; i < rows; ++i) {
    std::int64_t rest = i, src = 0;
    for (auto a = out.size() - 1; a-- > 0;) {
      src += (rest % out[a]) * stride[a];
      rest /= out[a];
    }
    r.row_start[static_cast<std::size_t>(i)] = src;
  }
  return r;
}

Dim dims_product(const Dims& dims, std::size_t begin, std::size_t end) {
  std::int64_t known = 1;
  int symbols = 0;
  Dim symbol;
  for (std::size_t i = begin; i < end; ++i) {
    if (dims[i].is_known()) {
      known *= dims[i].value();
    } else if (dims[i].is_symbol()) {
      ++symbols;
      symbol = dims[i];
    } else {
      return Dim();
    }
  }
  if (symbols == 0) return Dim::known(known);
  if (symbols == 1 && known == 1) return symbol;
  return Dim();
}

ValueId optional_input(const Node& n, std::size_t i) { return i < n.inputs.size() ? n.inputs[i] : kNoValue; }

bool post_ops_are_one_relu(const Node& n) {
  if (n.post_ops.size() != 1) return false;
  const auto& p = n.post_ops[0];
  return p.kind == PostOpKind::Activation && p.activation.kind == ActivationKind::Relu && p.activation.alpha == 0.0f;
}

std::optional<std::vector<std::int64_t>> squeeze_axes(const Graph& g, const Node& n) {
  if (g.opset < 13) return n.attrs.find_ints("axes");
  const auto v = optional_input(n, 1);
  if (v == kNoValue) return std::nullopt;
  auto axes = constant_ints(g, v);
  if (!axes) throw_error(ErrorKind::Unsupported, "axes must be a constant");
  return axes;
}

bool dropout_is_identity(const Graph& g, const Node& n) {
  auto constant_zero = [&](ValueId v) {
    const auto& t = g.value(v).constant;
    return t && t->numel() == 1 && t->element_as_double(0) == 0.0;
  };
  const auto training = optional_input(n, 2);
  if (training == kNoValue || constant_zero(training)) return true;
  const auto ratio = optional_input(n, 1);
  return ratio != kNoValue && constant_zero(ratio);
}

std::optional<std::vector<std::int64_t>> reduce_axes(const Graph& g, const Node& n, std::size_t rank) {
  std::vector<std::int64_t> given;
  if (g.opset < 18) {
    given = n.attrs.get_ints("axes", {});
  } else if (const auto v = optional_input(n, 1); v != kNoValue) {
    auto axes = constant_ints(g, v);
    if (!axes) return std::nullopt;
    given = std::move(*axes);
  }
  std::vector<std::int64_t> axes;
  if (given.empty()) {
    if (n.attrs.get_int("noop_with_empty_axes", 0) != 0) return axes;
    for (std::size_t i = 0; i < rank; ++i) axes.push_back(static_cast<std::int64_t>(i));
    return axes;
  }
  for (auto a : given) axes.push_back(normalize_axis(a, static_cast<std::int64_t>(rank), "axis"));
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    throw_error(ErrorKind::BadInput, fmt::format("axes [{}] repeat an axis", fmt::join(given, ", ")));
  return axes;
}

std::vector<std::int64_t> transpose_perm(const Node& n, std::size_t rank) {
  std::vector<std::int64_t> reversed;
  for (auto i = rank; i-- > 0;) reversed.push_back(static_cast<std::int64_t>(i));
  auto perm = n.attrs.get_ints("perm", reversed);
  std::vector<bool> seen(rank, false);
  bool ok = perm.size() == rank;
  for (auto p : perm) {
    ok = ok && p >= 0 && static_cast<std::size_t>(p) < rank && !seen[static_cast<std::size_t>(p)];
    if (ok) seen[static_cast<std::size_t>(p)] = true;
  }
  if (!ok) {
    throw_error(ErrorKind::BadInput,
                fmt::format("perm [{}] is not a permutation of the {} axes", fmt::join(perm, ", "), rank));
  }
  return perm;
}

std::optional<PadSpec> pad_spec(const Graph& g, const Node& n, std::size_t rank) {
  const auto mode = n.attrs.get_string("mode", "constant");
  if (mode != "constant")
    throw_error(ErrorKind::Unsupported, fmt::format("mode '{}' is not supported (only constant)", mode));
  std::vector<std::int64_t> pads;
  PadSpec spec;
  if (g.opset < 11) {
    pads = n.attrs.get_ints("pads", {});
    spec.value = n.attrs.get_float("value", 0.0f);
  } else {
    auto p = constant_ints(g, optional_input(n, 1));
    if (!p) return std::nullopt;
    pads = *p;
    const auto v = optional_input(n, 2);
    if (v != kNoValue) {
      auto value = constant_scalar(g, v);
      if (!value) return std::nullopt;
      spec.value = *value;
    }
    if (optional_input(n, 3) != kNoValue) throw_error(ErrorKind::Unsupported, "the axes input is not supported");
  }
  if (pads.size() != 2 * rank) {
    throw_error(ErrorKind::BadInput, fmt::format("pads has {} values for rank {}", pads.size(), rank));
  }
  for (std::size_t i = 0; i < rank; ++i) {
    if (pads[i] < 0 || pads[i + rank] < 0)
      throw_error(ErrorKind::Unsupported, "negative pads (cropping) are not supported");
    if (pads[i] > (1 << 20) || pads[i + rank] > (1 << 20)) throw_error(ErrorKind::BadInput, "pads are too large");
    spec.begin.push_back(pads[i]);
    spec.end.push_back(pads[i + rank]);
  }
  return spec;
}

std::int64_t value_rank(const Graph& g, ValueId v) { return static_cast<std::int64_t>(g.value(v).dims->size()); }

std::vector<std::int64_t> concrete_shape(const Graph& g, ValueId v) {
  const auto& dims = g.value(v).dims;
  if (!dims || !all_known(*dims)) {
    throw_error(ErrorKind::Internal, fmt::format("the shape of '{}' is not known at plan time", g.value(v).name));
  }
  return known_values(*dims);
}

}  // namespace pt2onnx::runtime

namespace pt2onnx::runtime {

std::optional<SliceParams> slice_params(const Graph& g, const Node& n, std::size_t rank) {
  SliceParams p;
  if (g.opset < 10) {
    auto starts = n.attrs.find_ints("starts");
    auto ends = n.attrs.find_ints("ends");
    if (!starts || !ends) throw_error(ErrorKind::BadInput, "starts and ends are required");
    p.starts = *starts;
    p.ends = *ends;
    if (auto axes = n.attrs.find_ints("axes")) p.axes = *axes;
  } else {
    auto starts = constant_ints(g, optional_input(n, 1));
    auto ends = constant_ints(g, optional_input(n, 2));
    if (!starts || !ends) return std::nullopt;
    p.starts = *starts;
    p.ends = *ends;
    if (optional_input(n, 3) != kNoValue) {
      auto axes = constant_ints(g, n.inputs[3]);
      if (!axes) return std::nullopt;
      p.axes = *axes;
    }
    if (optional_input(n, 4) != kNoValue) {
      auto steps = constant_ints(g, n.inputs[4]);
      if (!steps) return std::nullopt;
      p.steps = *steps;
    }
  }
  if (p.axes.empty()) {
    for (std::size_t i = 0; i < p.starts.size(); ++i) p.axes.push_back(static_cast<std::int64_t>(i));
  }
  if (p.steps.empty()) p.steps.assign(p.starts.size(), 1);
  if (p.ends.size() != p.starts.size() || p.axes.size() != p.starts.size() || p.steps.size() != p.starts.size()) {
    throw_error(ErrorKind::BadInput, "starts, ends, axes and steps differ in length");
  }
  for (auto& a : p.axes) a = normalize_axis(a, static_cast<std::int64_t>(rank), "axis");
  for (auto s : p.steps) {
    if (s == 0) throw_error(ErrorKind::BadInput, "a step is 0");
  }
  return p;
}

SliceRange resolve_slice_axis(std::int64_t start, std::int64_t end, std::int64_t step, std::int64_t dim) {
  if (start < 0) start = start < -dim ? 0 : start + dim;
  if (end < 0) end = end < -dim ? -1 : end + dim;
  SliceRange r;
  r.step = step;
  if (step > 0) {
    start = std::clamp<std::int64_t>(start, 0, dim);
    end = std::clamp<std::int64_t>(end, 0, dim);
    r.start = start;
    r.length = end > start ? (end - start + step - 1) / step : 0;
  } else {
    start = std::clamp<std::int64_t>(start, 0, dim - 1);
    end = std::clamp<std::int64_t>(end, -1, dim - 1);
    r.start = start;
    r.length = start > end ? (start - end + (-step) - 1) / (-step) : 0;
  }
  return r;
}

}  // namespace pt2onnx::runtime
