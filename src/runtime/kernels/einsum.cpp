// Einsum of two float32 operands (ops/einsum.h). An equation that is a
// batched matrix product (MaxViT's attention: letters in both operands and
// the output are the batch, one letter of each operand's own, one summed)
// runs as oneDNN's matmul on strided views of the operands, with no copy.
// Any other equation: every output element is a dot product over the summed
// letters, read with each operand's strides (0 for a letter the operand
// lacks), worked out when the plan is built.
#include <cstdint>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "runtime/kernels/kernels.h"
#include "runtime/op_util.h"
#include "runtime/ops/einsum.h"
#include "runtime/threads.h"

namespace pt2onnx::runtime {
namespace {

// Row-major strides of a term's letters; 0 for a letter it lacks.
std::int64_t einsum_stride(const std::string& term, const std::vector<std::int64_t>& shape, char letter) {
  std::int64_t stride = 1;
  for (auto k = term.size(); k-- > 0;) {
    if (term[k] == letter) return stride;
    stride *= shape[k];
  }
  return 0;
}

// One group of letters (the output's, or the summed ones): their sizes and
// each operand's strides, outermost first.
struct EinsumAxes {
  std::vector<std::int64_t> size, a_stride, b_stride;
  [[nodiscard]] std::int64_t count() const {
    std::int64_t c = 1;
    for (auto s : size) c *= s;
    return c;
  }
};

// The equation as a batched matrix product C[batch, m, n] = sum over k of
// A[batch, m, k] B[batch, k, n], each operand a strided view of its dense
// row-major tensor: the letters of the output's batch in its order, then m
// and k (A), k and n (B), m and n (C). nullopt when the letters do not fall
// so: a batch letter missing from an operand, more or fewer than one letter
// of m, n or k, or a summed letter in one operand only.
struct MatmulViews {
  memory::desc a, b, c;
};
std::optional<MatmulViews> as_batched_matmul(const EinsumEquation& e, const std::vector<std::int64_t>& as,
                                             const std::vector<std::int64_t>& bs, const std::vector<std::int64_t>& ys) {
  const std::string_view ta = e.inputs[0], tb = e.inputs[1], ty = e.output;
  std::string batch, m, nn, k;
  for (char c : ty) {
    const bool in_a = ta.find(c) != std::string_view::npos, in_b = tb.find(c) != std::string_view::npos;
    (in_a && in_b ? batch : in_a ? m : nn).push_back(c);
  }
  for (char c : ta) {
    if (ty.find(c) != std::string_view::npos) continue;
    if (tb.find(c) == std::string_view::npos) return std::nullopt;
    k.push_back(c);
  }
  for (char c : tb) {
    if (ty.find(c) == std::string_view::npos && ta.find(c) == std::string_view::npos) return std::nullopt;
  }
  if (m.size() != 1 || nn.size() != 1 || k.size() != 1) return std::nullopt;
  const auto view = [&](const std::string& term, const std::vector<std::int64_t>& shape, char row, char col) {
    memory::dims dims, strides;
    for (char c : batch + row + col) {
      dims.push_back(shape[term.find(c)]);
      strides.push_back(einsum_stride(term, shape, c));
    }
    return memory::desc(dims, memory::data_type::f32, strides);
  };
  return MatmulViews{view(e.inputs[0], as, m[0], k[0]), view(e.inputs[1], bs, k[0], nn[0]),
                     view(e.output, ys, m[0], nn[0])};
}

}  // namespace

void build_einsum(PlanBuilder& b, const Node& n) {
  const auto e = parse_einsum(n.attrs.get_string("equation", ""));
  const auto as = b.shape(n.inputs[0]);
  const auto bs = b.shape(n.inputs[1]);
  const auto ys = b.shape(n.outputs[0]);
  if (shape_numel(ys) > 0 && !b.graph().is_constant(n.inputs[0]) && !b.graph().is_constant(n.inputs[1])) {
    if (const auto views = as_batched_matmul(e, as, bs, ys)) {
      dnnl::matmul::primitive_desc pd;
      if (try_create([&] {
            pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(views->a, views->b, views->c), b.attr(), b.engine());
          }) &&
          !is_reference(pd)) {
        const auto sa = b.plain(n.inputs[0]);
        const auto sb = b.plain(n.inputs[1]);
        if (b.slot_md(sa).data.offset0 == 0 && b.slot_md(sb).data.offset0 == 0) {
          const auto dst = b.new_slot(plain_md(ys), b.graph().value(n.outputs[0]).name);
          b.define(n.outputs[0], dst);
          b.add_primitive(dnnl::matmul(pd), pd,
                          {{DNNL_ARG_SRC, b.view(sa, views->a)},
                           {DNNL_ARG_WEIGHTS, b.view(sb, views->b)},
                           {DNNL_ARG_DST, b.view(dst, views->c)}});
          return;
        }
      }
    }
  }
  auto size_of = [&](char c) {
    const auto i = e.inputs[0].find(c);
    return i != std::string::npos ? as[i] : bs[e.inputs[1].find(c)];
  };
  EinsumAxes out_axes, sum_axes;
  for (char c : e.output) {
    out_axes.size.push_back(size_of(c));
    out_axes.a_stride.push_back(einsum_stride(e.inputs[0], as, c));
    out_axes.b_stride.push_back(einsum_stride(e.inputs[1], bs, c));
  }
  std::string summed;
  for (const auto& t : e.inputs) {
    for (char c : t) {
      if (e.output.find(c) == std::string::npos && summed.find(c) == std::string::npos) summed.push_back(c);
    }
  }
  for (char c : summed) {
    sum_axes.size.push_back(size_of(c));
    sum_axes.a_stride.push_back(einsum_stride(e.inputs[0], as, c));
    sum_axes.b_stride.push_back(einsum_stride(e.inputs[1], bs, c));
  }
  // Each summed index's offsets into both operands, listed once.
  const auto terms = sum_axes.count();
  std::vector<std::int64_t> a_off(static_cast<std::size_t>(terms)), b_off(static_cast<std::size_t>(terms));
  for (std::int64_t k = 0; k < terms; ++k) {
    std::int64_t rest = k, ao = 0, bo = 0;
    for (auto d = sum_axes.size.size(); d-- > 0;) {
      const auto idx = rest % sum_axes.size[d];
      rest /= sum_axes.size[d];
      ao += idx * sum_axes.a_stride[d];
      bo += idx * sum_axes.b_stride[d];
    }
    a_off[static_cast<std::size_t>(k)] = ao;
    b_off[static_cast<std::size_t>(k)] = bo;
  }
  const auto out = n.outputs[0];
  const auto dst = b.new_slot(plain_md(ys), b.graph().value(out).name);
  b.define(out, dst);
  const auto count = out_axes.count();
  if (count == 0) return;
  const auto sa = b.plain(n.inputs[0]);
  const auto sb = b.plain(n.inputs[1]);
  const auto a_start = b.slot_md(sa).data.offset0;
  const auto b_start = b.slot_md(sb).data.offset0;
  b.add_custom(
      [=, a_off = std::move(a_off), b_off = std::move(b_off)](const SlotMemories& m) {
        const auto* ad = static_cast<const float*>(m[static_cast<std::size_t>(sa)].get_data_handle()) + a_start;
        const auto* bd = static_cast<const float*>(m[static_cast<std::size_t>(sb)].get_data_handle()) + b_start;
        auto* o = static_cast<float*>(m[static_cast<std::size_t>(dst)].get_data_handle());
        const auto rank = out_axes.size.size();
        parallel_for(count, [&](std::int64_t i) {
          std::int64_t rest = i, ao = 0, bo = 0;
          for (auto d = rank; d-- > 0;) {
            const auto idx = rest % out_axes.size[d];
            rest /= out_axes.size[d];
            ao += idx * out_axes.a_stride[d];
            bo += idx * out_axes.b_stride[d];
          }
          float sum = 0.0f;
          for (std::size_t k = 0; k < a_off.size(); ++k) sum += ad[ao + a_off[k]] * bd[bo + b_off[k]];
          o[i] = sum;
        });
      },
      {sa, sb}, {dst});
}

}  // namespace pt2onnx::runtime
