// Add, Sub, Mul, Div with numpy broadcasting through oneDNN's binary
// primitive. oneDNN broadcasts only its second source, so a commutative op
// whose first input is the broadcast one swaps them; otherwise (a broadcast
// first operand, rare in CNNs) and for a broadcast that oneDNN takes only in
// its reference loop, the engine's own row loop runs the op (math.cpp). A
// strided operand that only oneDNN's reference loop takes is made plain
// first.
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "pt2onnx/tensor.h"
#include "runtime/kernels/channels_last.h"
#include "runtime/kernels/kernels.h"
#include "runtime/op_util.h"

namespace pt2onnx::runtime {
namespace {

std::vector<std::int64_t> padded(std::vector<std::int64_t> shape, std::size_t rank) {
  while (shape.size() < rank) shape.insert(shape.begin(), 1);
  return shape;
}

dnnl::algorithm binary_algorithm(OpType op) {
  switch (op) {
    case OpType::Add:
      return dnnl::algorithm::binary_add;
    case OpType::Sub:
      return dnnl::algorithm::binary_sub;
    case OpType::Mul:
      return dnnl::algorithm::binary_mul;
    default:
      return dnnl::algorithm::binary_div;
  }
}

}  // namespace

void build_binary(PlanBuilder& b, const Node& n) {
  auto a = n.inputs[0];
  auto c = n.inputs[1];
  const auto out = n.outputs[0];
  const auto out_shape = b.shape(out);
  const auto rank = std::max<std::size_t>(out_shape.size(), 1);
  const auto ro = padded(out_shape, rank);
  auto sa = padded(b.shape(a), rank);
  auto sc = padded(b.shape(c), rank);
  const bool commutative = n.op == OpType::Add || n.op == OpType::Mul;
  if (commutative && sa != ro && sc == ro) {
    std::swap(a, c);
    std::swap(sa, sc);
  }

  const auto alg = binary_algorithm(n.op);
  const bool gate = n.op == OpType::Mul && ro.size() == 4 && sc == std::vector<std::int64_t>{ro[0], ro[1], 1, 1};
  // The engine's row loop for a first operand that broadcasts, and for a
  // broadcast that oneDNN 2.6 takes only in its reference loop even on plain
  // operands (a middle axis: Swin's attention mask, [B, windows, 1, 49, 49]
  // added over the heads, 57 ms of its 220 ms run at one thread; 0.5 ms in
  // the loop). A first operand of the output's shape always has rank's dims
  // here: a rank-0 output pads everything to [1].
  const auto reference_only = [&] {
    const dnnl::binary::primitive_desc plain(dnnl::binary::desc(alg, plain_md(ro), plain_md(sc), plain_md(ro)),
                                             b.attr(), b.engine());
    return is_reference(plain);
  };
  if (sa != ro || (sc != ro && !gate && reference_only())) {
    build_broadcast_arithmetic(b, n);
    return;
  }

  SlotId s0 = b.shape(a).size() == rank ? b.slot(a) : b.reshaped(a, ro);
  SlotId s1 = b.shape(c).size() == rank ? b.slot(c) : b.reshaped(c, sc);

  auto make_pd = [&](const dnnl::post_ops& ops) {
    dnnl::binary::desc d(alg, b.slot_md(s0), b.slot_md(s1), b.slot_md(s0));
    auto attr = b.attr();
    attr.set_post_ops(ops);
    return dnnl::binary::primitive_desc(d, attr, b.engine());
  };
  dnnl::binary::primitive_desc pd;
  bool fused = try_create([&] { pd = make_pd(make_post_ops(n)); });
  if (!fused && !try_create([&] { pd = make_pd(dnnl::post_ops()); })) {
    // Some layout pairs have no implementation: fall back to plain operands.
    s0 = b.reshaped(a, ro);
    s1 = b.reshaped(c, sc);
    fused = try_create([&] { pd = make_pd(make_post_ops(n)); });
    if (!fused) pd = make_pd(dnnl::post_ops());
  }
  // oneDNN 2.6 has only its reference loop for a strided operand (a
  // Transpose's view: attention's [1, 0, 2] permutes) and for some plain
  // operands with a leading 1 (ViT-B's [1, 50, 768] residual sums): 3.3 ms
  // for a sum the jit kernel does in microseconds. So operands that only the
  // reference loop takes are made plain, and seen as one flat row when
  // nothing broadcasts (the op is then the same on any plain shape).
  // Channel-blocked operands and squeeze-excitation gates keep their own
  // handling below.
  const bool reference = is_reference(pd);
  bool flat = false;
  if (reference && !gate && is_unblocked(b.slot_md(s0)) && is_unblocked(b.slot_md(s1))) {
    flat = sc == ro;
    const std::int64_t total = shape_numel(ro);
    s0 = b.reshaped(a, flat ? std::vector<std::int64_t>{total} : ro);
    s1 = b.reshaped(c, flat ? std::vector<std::int64_t>{total} : sc);
    fused = try_create([&] { pd = make_pd(make_post_ops(n)); });
    if (!fused) pd = make_pd(dnnl::post_ops());
  }
  // A squeeze-excitation scale: a channels-last or channel-blocked activation
  // that dies here times an [N, C, 1, 1] gate, in place (channels_last.h). For
  // a blocked activation oneDNN 2.6 has only its reference binary loop, which
  // took 77% of RegNet Y-400MF's run (its grouped convolutions write nChw8c).
  const auto walk = gate ? channel_walk(b.slot_md(s0), ro) : std::nullopt;
  if (walk && n.post_ops.empty() && b.dies_here(a) && b.slot(a) == s0 && a != c && !b.same_storage(s0, s1) &&
      b.slot_md(s1).get_size() == static_cast<std::size_t>(ro[0] * ro[1]) * sizeof(float)) {
    const std::int64_t images = walk->images, channels = walk->channels, pixels = walk->pixels;
    b.add_custom(
        [s0, s1, images, channels, pixels](const SlotMemories& m) {
          channels_last_scale(static_cast<float*>(m[static_cast<std::size_t>(s0)].get_data_handle()),
                              static_cast<const float*>(m[static_cast<std::size_t>(s1)].get_data_handle()), images,
                              pixels, channels);
        },
        {s0, s1}, {s0});
    b.define(out, s0);
    return;
  }
  SlotId dst = kNoSlot;
  if (b.dies_here(a) && b.slot(a) == s0 && a != c && !b.same_storage(s0, s1)) {
    dst = s0;
  } else {
    dst = b.new_slot(pd.dst_desc(), b.graph().value(out).name);
  }
  b.add_primitive(dnnl::binary(pd), pd, {{DNNL_ARG_SRC_0, s0}, {DNNL_ARG_SRC_1, s1}, {DNNL_ARG_DST, dst}});
  if (!fused) apply_post_ops_separately(b, n, dst);
  // The output keeps the rank ONNX gives it (a rank-0 result is stored as [1]).
  b.define(out, out_shape.size() == rank && !flat ? dst : b.view(dst, plain_md(out_shape)));
}

}  // namespace pt2onnx::runtime
