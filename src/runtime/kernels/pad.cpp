// Pad in constant mode, a plain copy: torch.onnx.export writes AvgPool2d with
// padding and count_include_pad as Pad + AveragePool. Rare and small, so a
// row-by-row copy into a filled buffer is enough.
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "runtime/kernels/kernels.h"
#include "runtime/op_util.h"

namespace pt2onnx::runtime {
namespace {

void pad_copy(const float* in, float* out, const std::vector<std::int64_t>& xs, const std::vector<std::int64_t>& ys,
              const std::vector<std::int64_t>& begin, float value) {
  std::int64_t total = 1;
  for (auto d : ys) total *= d;
  std::fill(out, out + total, value);
  const auto rank = xs.size();
  if (rank == 0) {
    out[0] = in[0];
    return;
  }
  std::vector<std::int64_t> out_strides(rank, 1);
  for (auto d = rank - 1; d-- > 0;) out_strides[d] = out_strides[d + 1] * ys[d + 1];
  const auto row = xs.back();
  std::int64_t rows = 1;
  for (std::size_t d = 0; d + 1 < rank; ++d) rows *= xs[d];
  std::vector<std::int64_t> index(rank, 0);
  for (std::int64_t r = 0; r < rows; ++r) {
    std::int64_t dst = begin.back();
    for (std::size_t d = 0; d + 1 < rank; ++d) dst += (index[d] + begin[d]) * out_strides[d];
    std::memcpy(out + dst, in + r * row, static_cast<std::size_t>(row) * sizeof(float));
    for (auto d = rank - 1; d-- > 0;) {
      if (++index[d] < xs[d]) break;
      index[d] = 0;
    }
  }
}

}  // namespace

void build_pad(PlanBuilder& b, const Node& n) {
  const auto x = n.inputs[0];
  const auto out = n.outputs[0];
  const auto xs = b.shape(x);
  const auto ys = b.shape(out);
  const auto spec = pad_spec(b.graph(), n, xs.size());
  if (!spec) throw_error(ErrorKind::Unsupported, "pads and the value must be constants");
  const auto src = b.plain(x);
  const auto dst = b.new_slot(plain_md(ys), b.graph().value(out).name);
  b.add_custom(
      [src, dst, xs, ys, begin = spec->begin, value = spec->value](const SlotMemories& m) {
        pad_copy(static_cast<const float*>(m[static_cast<std::size_t>(src)].get_data_handle()),
                 static_cast<float*>(m[static_cast<std::size_t>(dst)].get_data_handle()), xs, ys, begin, value);
      },
      {src}, {dst});
  b.define(out, dst);
}

}  // namespace pt2onnx::runtime
