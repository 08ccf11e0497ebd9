// ScatterND on float32 data: a copy of the data, then each update slice
// combined into its place, in the order of the indices (ops/index.h,
// scatter_plan). The indices are known before the run.
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "pt2onnx/tensor.h"
#include "runtime/kernels/kernels.h"
#include "runtime/op_util.h"
#include "runtime/ops/index.h"

namespace pt2onnx::runtime {

void build_scatter_nd(PlanBuilder& b, const Node& n) {
  const auto& g = b.graph();
  const auto& iv = g.value(n.inputs[1]);
  if (!iv.constant) throw_error(ErrorKind::Unsupported, "ScatterND's indices must be known before the run");
  const auto data_shape = b.shape(n.inputs[0]);
  const auto plan = scatter_plan(data_shape, *iv.constant, b.shape(n.inputs[2]));
  const auto reduction = scatter_reduction(n);
  const auto out = n.outputs[0];
  const auto dst = b.new_slot(plain_md(data_shape), g.value(out).name);
  b.define(out, dst);
  const auto data = b.plain(n.inputs[0]);
  const auto updates = b.plain(n.inputs[2]);
  const auto data_offset = b.slot_md(data).data.offset0;
  const auto updates_offset = b.slot_md(updates).data.offset0;
  const std::int64_t count = shape_numel(data_shape);
  b.add_custom(
      [data, updates, dst, data_offset, updates_offset, count, plan, reduction](const SlotMemories& m) {
        const auto* in = static_cast<const float*>(m[static_cast<std::size_t>(data)].get_data_handle()) + data_offset;
        const auto* up =
            static_cast<const float*>(m[static_cast<std::size_t>(updates)].get_data_handle()) + updates_offset;
        auto* o = static_cast<float*>(m[static_cast<std::size_t>(dst)].get_data_handle());
        if (count > 0) std::memmove(o, in, static_cast<std::size_t>(count) * sizeof(float));
        for (std::size_t t = 0; t < plan.offsets.size(); ++t) {
          auto* to = o + plan.offsets[t];
          const auto* from = up + static_cast<std::int64_t>(t) * plan.slice;
          for (std::int64_t j = 0; j < plan.slice; ++j) {
            switch (reduction) {
              case ScatterReduction::None:
                to[j] = from[j];
                break;
              case ScatterReduction::Add:
                to[j] += from[j];
                break;
              case ScatterReduction::Mul:
                to[j] *= from[j];
                break;
              case ScatterReduction::Max:
                to[j] = std::max(to[j], from[j]);
                break;
              case ScatterReduction::Min:
                to[j] = std::min(to[j], from[j]);
                break;
            }
          }
        }
      },
      {data, updates}, {dst});
}

}  // namespace pt2onnx::runtime
