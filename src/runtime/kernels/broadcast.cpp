// Expand and Where on computed float32 tensors: loops over the output's rows
// (its last axis), each reading its inputs' rows where numpy broadcasting puts
// them (op_util.h, broadcast_rows), worked out when the plan is built. Where's
// condition is known before the run and kept in the step.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

#include "pt2onnx/tensor.h"
#include "runtime/kernels/kernels.h"
#include "runtime/op_util.h"

namespace pt2onnx::runtime {

BroadcastSource broadcast_source(PlanBuilder& b, ValueId v, const std::vector<std::int64_t>& out) {
  BroadcastSource s;
  const auto& value = b.graph().value(v);
  if (value.constant && value.constant->dtype() != DType::Float32) {
    const auto md = plain_md(value.constant->shape());
    s.slot = b.derived_constant(value.constant->to_float32(), md, md);
  } else {
    s.slot = b.plain(v);
  }
  s.offset = b.slot_md(s.slot).data.offset0;
  s.rows = broadcast_rows(b.shape(v), out);
  return s;
}

const float* broadcast_data(const SlotMemories& m, const BroadcastSource& s) {
  return static_cast<const float*>(m[static_cast<std::size_t>(s.slot)].get_data_handle()) + s.offset;
}

void build_expand(PlanBuilder& b, const Node& n) {
  const auto out = n.outputs[0];
  const auto ys = b.shape(out);
  const auto dst = b.new_slot(plain_md(ys), b.graph().value(out).name);
  b.define(out, dst);
  if (shape_numel(ys) == 0) return;
  const auto src = broadcast_source(b, n.inputs[0], ys);
  b.add_custom(
      [src, dst](const SlotMemories& m) {
        const auto* in = broadcast_data(m, src);
        auto* o = static_cast<float*>(m[static_cast<std::size_t>(dst)].get_data_handle());
        const auto len = src.rows.row_length;
        for (auto start : src.rows.row_start) {
          if (src.rows.step == 1) {
            std::memcpy(o, in + start, static_cast<std::size_t>(len) * sizeof(float));
          } else {
            std::fill(o, o + len, in[start]);
          }
          o += len;
        }
      },
      {src.slot}, {dst});
}

void build_where(PlanBuilder& b, const Node& n) {
  const auto& g = b.graph();
  const auto out = n.outputs[0];
  const auto ys = b.shape(out);
  const auto& cv = g.value(n.inputs[0]);
  if (!cv.constant) throw_error(ErrorKind::Unsupported, "the condition must be known before the run");
  // The condition as 0/1 bytes, broadcast to the output's shape.
  const auto rows = broadcast_rows(cv.constant->shape(), ys);
  std::vector<std::uint8_t> take_x;
  take_x.reserve(static_cast<std::size_t>(shape_numel(ys)));
  for (auto start : rows.row_start) {
    for (std::int64_t j = 0; j < rows.row_length; ++j) {
      take_x.push_back(cv.constant->element_as_double(start + j * rows.step) != 0.0 ? 1 : 0);
    }
  }
  const auto dst = b.new_slot(plain_md(ys), g.value(out).name);
  b.define(out, dst);
  if (take_x.empty()) return;
  const auto x = broadcast_source(b, n.inputs[1], ys);
  const auto y = broadcast_source(b, n.inputs[2], ys);
  b.add_custom(
      [x, y, dst, take_x = std::move(take_x)](const SlotMemories& m) {
        const auto* xd = broadcast_data(m, x);
        const auto* yd = broadcast_data(m, y);
        auto* o = static_cast<float*>(m[static_cast<std::size_t>(dst)].get_data_handle());
        const auto len = x.rows.row_length;
        std::size_t i = 0;
        for (std::size_t r = 0; r < x.rows.row_start.size(); ++r) {
          const auto* xr = xd + x.rows.row_start[r];
          const auto* yr = yd + y.rows.row_start[r];
          for (std::int64_t j = 0; j < len; ++j, ++i) {
            o[i] = take_x[i] != 0 ? xr[j * x.rows.step] : yr[j * y.rows.step];
          }
        }
      },
      {x.slot, y.slot}, {dst});
}

}  // namespace pt2onnx::runtime
