// Mod (fmod=1) and Pow on float32 tensors, and Add, Sub, Mul and Div where
// oneDNN has only its reference loop: loops over the output's rows (its last
// axis), each reading its operands' rows where numpy broadcasting puts them
// (op_util.h, broadcast_rows), worked out when the plan is built. Pow's
// exponent may be a constant of another numeric dtype, converted to float32.
#include <cmath>
#include <cstdint>

#include <fmt/format.h>

#include "pt2onnx/error.h"
#include "pt2onnx/tensor.h"
#include "runtime/kernels/kernels.h"
#include "runtime/op_util.h"
#include "runtime/threads.h"

namespace pt2onnx::runtime {
namespace {

// out = fn(a, b) elementwise with broadcasting.
template <typename Fn>
void build_math_binary(PlanBuilder& b, const Node& n, Fn fn) {
  const auto out = n.outputs[0];
  const auto ys = b.shape(out);
  const auto dst = b.new_slot(plain_md(ys), b.graph().value(out).name);
  b.define(out, dst);
  const std::int64_t count = shape_numel(ys);
  if (count == 0) return;
  const auto x = broadcast_source(b, n.inputs[0], ys);
  const auto y = broadcast_source(b, n.inputs[1], ys);
  b.add_custom(
      [x, y, dst, fn](const SlotMemories& m) {
        const auto* xd = broadcast_data(m, x);
        const auto* yd = broadcast_data(m, y);
        auto* o = static_cast<float*>(m[static_cast<std::size_t>(dst)].get_data_handle());
        const auto len = x.rows.row_length;
        const auto rows = static_cast<std::int64_t>(x.rows.row_start.size());
        parallel_for(rows, [&](std::int64_t r) {
          const auto* xr = xd + x.rows.row_start[static_cast<std::size_t>(r)];
          const auto* yr = yd + y.rows.row_start[static_cast<std::size_t>(r)];
          auto* orow = o + r * len;
          for (std::int64_t j = 0; j < len; ++j) orow[j] = fn(xr[j * x.rows.step], yr[j * y.rows.step]);
        });
      },
      {x.slot, y.slot}, {dst});
}

}  // namespace

void build_mod(PlanBuilder& b, const Node& n) {
  // The shape rule refused fmod=0 on floating point.
  build_math_binary(b, n, [](float a, float d) { return std::fmod(a, d); });
}

void build_pow(PlanBuilder& b, const Node& n) {
  build_math_binary(b, n, [](float a, float e) { return std::pow(a, e); });
}

void build_broadcast_arithmetic(PlanBuilder& b, const Node& n) {
  switch (n.op) {
    case OpType::Add:
      build_math_binary(b, n, [](float x, float y) { return x + y; });
      break;
    case OpType::Sub:
      build_math_binary(b, n, [](float x, float y) { return x - y; });
      break;
    case OpType::Mul:
      build_math_binary(b, n, [](float x, float y) { return x * y; });
      break;
    case OpType::Div:
      build_math_binary(b, n, [](float x, float y) { return x / y; });
      break;
    default:
      throw_error(ErrorKind::Internal, fmt::format("build_broadcast_arithmetic: {}", op_type_name(n.op)));
  }
  apply_post_ops_separately(b, n, b.slot(n.outputs[0]));
}

}  // namespace pt2onnx::runtime
