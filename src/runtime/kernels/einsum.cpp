// Einsum of two float32 operands (ops/einsum.h): every output element is a
// dot product over the summed letters, read with each operand's strides (0
// for a letter the operand lacks), worked out when the plan is built.
#include <cstdint>

#include <fmt/format.h>

#include "runtime/kernels/kernels.h"
#include "runtime/op_util.h"
#include "runtime/ops/einsum.h"

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

}  // namespace

void build_einsum(PlanBuilder& b, const Node& n) {
  const auto e = parse_einsum(n.attrs.get_string("equation", ""));
  const auto as = b.shape(n.inputs[0]);
  const auto bs = b.shape(n.inputs[1]);
  const auto ys = b.shape(n.outputs[0]);
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
#pragma omp parallel for schedule(static)
        for (std::int64_t i = 0; i < count; ++i) {
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
        }
      },
      {sa, sb}, {dst});
}

}  // namespace pt2onnx::runtime
