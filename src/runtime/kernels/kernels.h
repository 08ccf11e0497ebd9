// Kernel builders: each turns one node into plan steps (oneDNN primitives,
// prepared once per plan). Each op's record (OpDef::kernel, ops/*.h) names its
// builder.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "runtime/kernels/channels_last.h"
#include "runtime/op_util.h"
#include "runtime/plan_builder.h"

namespace pt2onnx::runtime {

void build_conv(PlanBuilder& b, const Node& n);
void build_batch_norm(PlanBuilder& b, const Node& n);
void build_normalized_concat(PlanBuilder& b, const Node& n);
void build_activation(PlanBuilder& b, const Node& n);
void build_binary(PlanBuilder& b, const Node& n);
void build_pool(PlanBuilder& b, const Node& n);
void build_global_average_pool(PlanBuilder& b, const Node& n);
void build_gemm(PlanBuilder& b, const Node& n);
void build_matmul(PlanBuilder& b, const Node& n);
void build_attention(PlanBuilder& b, const Node& n);
void build_concat(PlanBuilder& b, const Node& n);
void build_softmax(PlanBuilder& b, const Node& n);
void build_reshape(PlanBuilder& b, const Node& n);
void build_pad(PlanBuilder& b, const Node& n);
void build_transpose(PlanBuilder& b, const Node& n);
void build_slice(PlanBuilder& b, const Node& n);
void build_gather(PlanBuilder& b, const Node& n);
void build_reduce_mean(PlanBuilder& b, const Node& n);
void build_layer_norm(PlanBuilder& b, const Node& n);
void build_erf(PlanBuilder& b, const Node& n);
void build_expand(PlanBuilder& b, const Node& n);
void build_where(PlanBuilder& b, const Node& n);
void build_mod(PlanBuilder& b, const Node& n);
void build_pow(PlanBuilder& b, const Node& n);
// Add, Sub, Mul or Div with numpy broadcasting as a plain loop over rows, and
// the node's post-ops after it: for operand shapes that oneDNN 2.6 has only
// its reference loop for (math.cpp).
void build_broadcast_arithmetic(PlanBuilder& b, const Node& n);
void build_scatter_nd(PlanBuilder& b, const Node& n);
void build_einsum(PlanBuilder& b, const Node& n);

// A float32 operand of an elementwise kernel with numpy broadcasting
// (Expand, Where, Mod, Pow): its slot, dense row-major (a constant of another
// dtype converted once), the first element of a view, and where each output
// row reads it (broadcast.cpp).
struct BroadcastSource {
  SlotId slot = kNoSlot;
  memory::dim offset = 0;
  BroadcastRows rows;
};
BroadcastSource broadcast_source(PlanBuilder& b, ValueId v, const std::vector<std::int64_t>& out);
const float* broadcast_data(const SlotMemories& m, const BroadcastSource& s);

// The mean over the spatial axes of [N, C, spatial...] (1 to 3 spatial axes)
// into a new slot of dims [N, C, 1, ...]: the engine's loop for a
// channels-last or channel-blocked 4-D input (channels_last.h), else oneDNN's
// pooling in the layout it chooses (pooling.cpp).
SlotId add_global_average_pool(PlanBuilder& b, ValueId x, const std::string& label);

// Channels-last 4-D pieces joined along the channels into a new
// channels-last slot, by an engine step (a Concat, a NormalizedConcat): the
// pieces' slots and channel counts, and the output's.
struct ChannelsLastJoin {
  std::vector<SlotId> srcs;
  std::vector<std::int64_t> channels;
  SlotId dst = kNoSlot;
  std::int64_t pixels = 0;  // the output's N*H*W
  std::int64_t total = 0;   // its channels
  // Calls fn(pieces, out) with the pieces' data and the output's in this
  // run's memories, allocating nothing.
  template <typename Fn>
  void with_pieces(const SlotMemories& m, Fn&& fn) const {
    std::array<ChannelsLastPiece, kMaxConcatPieces> pieces;
    for (std::size_t i = 0; i < srcs.size(); ++i) {
      pieces[i] = {static_cast<const float*>(m[static_cast<std::size_t>(srcs[i])].get_data_handle()), channels[i]};
    }
    fn(std::span<const ChannelsLastPiece>(pieces.data(), srcs.size()),
       static_cast<float*>(m[static_cast<std::size_t>(dst)].get_data_handle()));
  }
};
// The join of n's first srcs.size() inputs, whose channels-last slots srcs
// are (at most kMaxConcatPieces), into a new slot for n's output
// (layout_ops.cpp).
ChannelsLastJoin channels_last_join(PlanBuilder& b, const Node& n, std::vector<SlotId> srcs);

// Post-ops (post_ops.cpp).
struct EltwiseOp {
  dnnl::algorithm alg;
  float alpha = 0.0f;
  float beta = 0.0f;
};
// The oneDNN eltwise operations computing an activation, in order.
std::vector<EltwiseOp> eltwise_ops(const Activation& a);
// The node's activation and sum post-ops as oneDNN post-ops: all of them, or
// the first `count`.
dnnl::post_ops make_post_ops(const Node& n);
dnnl::post_ops make_post_ops(const Node& n, std::size_t count);
// How many of the node's post-ops a oneDNN primitive should fuse: all but a
// last Swish, which the engine's own SiLU loop (silu.cpp) runs faster after
// the primitive where the CPU has it.
std::size_t fusable_post_ops(const Node& n);
// Applies the node's post-ops from the `first` on as separate steps on dst,
// in place, for a primitive that could not fuse them (or fused the ones
// before `first`).
void apply_post_ops_separately(PlanBuilder& b, const Node& n, SlotId dst, std::size_t first = 0);
// Adds standalone eltwise steps for `ops` from src into dst (dst may be src).
// A SiLU runs as the engine's own loop where own_loops_available().
void add_eltwise_steps(PlanBuilder& b, const std::vector<EltwiseOp>& ops, SlotId src, SlotId dst);

// Whether the engine's own AVX-512 loops (the SiLU and the matrix-vector
// product below) run on this CPU; without AVX-512, oneDNN's primitives do
// their work.
inline bool own_loops_available() {
  static const bool kAvailable = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return kAvailable;
}

// Where a 2-D 3x3 stride-1 convolution without groups runs oneDNN's
// Winograd kernel (conv.cpp): at least `min_channels` in and out, at least
// `min_pixels` output pixels per image, and, unless `joined`, not where a
// Concat takes its output. They depend on the CPU: where AVX-512 runs on
// 256-bit units (AMD family 25, Zen 4) the direct kernels reach the FMA peak
// sooner and Winograd pays on smaller convolutions.
struct WinogradLimits {
  std::int64_t min_channels = 0;
  std::int64_t min_pixels = 0;
  bool joined = false;
  bool operator==(const WinogradLimits&) const = default;
};
// The limits for a CPU given its vendor, its family (cpuid leaf 1, the
// extended family added) and whether it has AVX-512F.
WinogradLimits winograd_limits_for(bool amd, unsigned family, bool avx512);
// This CPU's limits.
const WinogradLimits& winograd_limits();

// SiLU (silu.cpp): y = x * sigmoid(x) over `count` floats (y may be x), split
// among the calling thread's team; only where own_loops_available().
void silu(const float* x, float* y, std::int64_t count);

// Matrix-vector product (gemv.cpp): y[r] = sum over i of w[r * k + i] * x[i],
// plus bias[r] unless bias is null, for the n rows of a row-major [n, k]
// weight (PyTorch's Linear layout), the rows split among the calling thread's
// team; only where own_loops_available().
void gemv(const float* w, const float* x, const float* bias, float* y, std::int64_t n, std::int64_t k);

// Whether oneDNN chose its reference implementation for a primitive: plain
// loops, correct on any layout and far slower than its JIT kernels. Builders
// ask this to prefer another layout or route where the JIT kernel exists.
inline bool is_reference(const dnnl::primitive_desc_base& pd) {
  return std::string_view(pd.impl_info_str()).substr(0, 3) == "ref";
}

// Whether a primitive descriptor could be created (oneDNN reports
// unimplemented combinations by throwing).
template <typename Fn>
bool try_create(Fn&& fn) {
  try {
    fn();
    return true;
  } catch (const dnnl::error&) {
    return false;
  }
}

}  // namespace pt2onnx::runtime
