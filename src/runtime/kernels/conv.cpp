// Conv through oneDNN's convolution: layouts left to the primitive
// (format_tag::any), weights reordered once through the weight cache, the
// node's activations and residual sum fused as post-ops; Winograd for the
// larger 3x3 stride-1 convolutions.
#include <cpuid.h>

#include <algorithm>

#include <fmt/format.h>

#include "runtime/geometry.h"
#include "runtime/kernels/kernels.h"
#include "runtime/op_util.h"

namespace pt2onnx::runtime {
namespace {

// Winograd F(4x4, 3x3) (oneDNN's jit_wino_4x3) computes a 3x3, stride-1
// convolution from 6x6 input tiles with about a third of the direct method's
// multiplications. Measured at batch 1 on one thread (Zen 5) it ran 64->64
// channels at 56x56 in 0.55 ms against 1.03, 48->192 at 96x96 in 3.5 against
// 6.7, and its error against a double-precision sum was no larger than the
// direct kernel's (1e-6 of the output's scale). It works on channel blocks,
// so a channels-last neighbour costs a reorder either side, and with a team
// of two it splits its tiles less well than the direct kernel. On the Zen 5
// host, below 64 channels and 14x14 those costs ate the gain (DenseNet's
// 128->32 and GoogLeNet's 7x7 stages ran slower with it), and a convolution
// whose output a Concat joins kept the direct kernel: its channel blocks met
// its channels-last siblings' outputs behind reorders, and GoogLeNet at batch
// 1 on two threads went from 113 to 108 images/s with them (115-117 without).
// On Zen 4, whose 512-bit instructions run on 256-bit units, the direct
// kernels sit at the FMA peak and the saved multiplications outweigh the
// reorders from 16 channels and 100 pixels on, joined or not (SqueezeNet's
// 16->64 expand convolutions, DenseNet's 128->32, GoogLeNet's branches:
// docs/runtime.md, Plans).
constexpr WinogradLimits kDefaultLimits{.min_channels = 64, .min_pixels = 196, .joined = false};
constexpr WinogradLimits kZen4Limits{.min_channels = 16, .min_pixels = 100, .joined = true};

bool winograd_candidate(const std::vector<std::int64_t>& ws, const std::vector<std::int64_t>& ys, std::int64_t group,
                        const WindowGeometry& geo, const WinogradLimits& limits) {
  return ws.size() == 4 && group == 1 && ws[2] == 3 && ws[3] == 3 && geo.strides == std::vector<std::int64_t>{1, 1} &&
         geo.dilations == std::vector<std::int64_t>{1, 1} && std::min(ws[0], ws[1]) >= limits.min_channels &&
         ys[2] * ys[3] >= limits.min_pixels;
}

}  // namespace

WinogradLimits winograd_limits_for(bool amd, unsigned family, bool avx512) {
  return amd && family == 0x19 && avx512 ? kZen4Limits : kDefaultLimits;
}

const WinogradLimits& winograd_limits() {
  static const WinogradLimits kLimits = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(0, &eax, &ebx, &ecx, &edx) == 0) return kDefaultLimits;
    const bool amd = ebx == 0x68747541 && edx == 0x69746e65 && ecx == 0x444d4163;  // "AuthenticAMD"
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return kDefaultLimits;
    const unsigned base = (eax >> 8) & 0xf;
    const unsigned family = base == 0xf ? base + ((eax >> 20) & 0xff) : base;
    __builtin_cpu_init();
    return winograd_limits_for(amd, family, __builtin_cpu_supports("avx512f") != 0);
  }();
  return kLimits;
}

void build_conv(PlanBuilder& b, const Node& n) {
  const auto x = n.inputs[0];
  const auto w = n.inputs[1];
  const auto bias = optional_input(n, 2);
  const auto out = n.outputs[0];
  const auto xs = b.shape(x);
  const auto ws = b.shape(w);
  const auto ys = b.shape(out);
  const auto group = n.attrs.get_int("group", 1);
  const auto geo = window_geometry(n.attrs, {xs.begin() + 2, xs.end()}, {ws.begin() + 2, ws.end()}, false, true);

  // Grouped weights are [G, O/G, I/G, k...] to oneDNN, the same bytes as ONNX's [O, I/G, k...].
  std::vector<std::int64_t> wdims = ws;
  if (group > 1) {
    wdims = {group, ws[0] / group};
    wdims.insert(wdims.end(), ws.begin() + 1, ws.end());
  }
  memory::dims strides, dilations, pad_l, pad_r;
  for (std::size_t i = 0; i < geo.kernel.size(); ++i) {
    strides.push_back(geo.strides[i]);
    dilations.push_back(geo.dilations[i] - 1);  // oneDNN counts the gaps
    pad_l.push_back(geo.pad_begin[i]);
    pad_r.push_back(geo.pad_end[i]);
  }
  const auto bias_md = bias == kNoValue ? memory::desc() : any_md({ws[0]});
  memory::desc src_md = any_md(xs);
  memory::desc dst_md = any_md(ys);
  auto make_pd = [&](const dnnl::post_ops& ops, dnnl::algorithm alg = dnnl::algorithm::convolution_direct) {
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, alg, src_md, any_md(wdims), bias_md, dst_md,
                                      strides, dilations, pad_l, pad_r);
    auto attr = b.attr();
    attr.set_post_ops(ops);
    return dnnl::convolution_forward::primitive_desc(d, attr, b.engine());
  };
  // The post-ops oneDNN fuses (all but a last SiLU, which runs faster as the
  // engine's own step after the primitive: silu.cpp).
  const auto fusable = fusable_post_ops(n);
  const auto post_ops = [&] { return make_post_ops(n, fusable); };
  dnnl::convolution_forward::primitive_desc pd;
  bool fused = try_create([&] { pd = make_pd(post_ops()); });
  if (!fused) pd = make_pd(dnnl::post_ops());
  // Winograd where it pays. Its kernel fuses a ReLU and a residual sum but no
  // other activation: a SiLU then runs as its own step after it.
  bool winograd = false;
  const auto consumers = b.graph().consumers(out);
  const bool joined =
      std::any_of(consumers.begin(), consumers.end(), [&](NodeId c) { return b.graph().node(c).op == OpType::Concat; });
  const auto& limits = winograd_limits();
  if ((limits.joined || !joined) && winograd_candidate(ws, ys, group, geo, limits)) {
    const auto alg = dnnl::algorithm::convolution_winograd;
    dnnl::convolution_forward::primitive_desc wino;
    if (fused && try_create([&] { wino = make_pd(post_ops(), alg); })) {
      winograd = true;
    } else if (try_create([&] { wino = make_pd(dnnl::post_ops(), alg); })) {
      winograd = true;
      fused = false;
    }
    if (winograd) pd = wino;
  }
  // Left to itself, a grouped convolution picks channel blocks (nChw16c) where
  // the 1x1 convolutions around it pick channels-last: a reorder in and one
  // out per block, each a team's barrier on a small tensor. RegNet X-400MF at
  // batch 1 had 44 a run, 0.65 of its 3.7 ms on two threads. A channels-last
  // input is therefore kept when oneDNN has an optimised kernel for it (on
  // two threads RegNet X-400MF went from 262 to 308-315 images/s, RegNet
  // Y-400MF from 186 to 208-215; one thread the same).
  if (const auto given = b.md(x); !winograd && xs.size() == 4 && pd.src_desc() != given &&
                                  given == memory::desc(xs, memory::data_type::f32, memory::format_tag::acdb)) {
    src_md = given;
    dst_md = memory::desc(ys, memory::data_type::f32, memory::format_tag::acdb);
    dnnl::convolution_forward::primitive_desc kept;
    if (try_create([&] { kept = make_pd(fused ? post_ops() : dnnl::post_ops()); }) && !is_reference(kept)) {
      pd = kept;
    }
  }

  const auto src = b.in_layout(x, pd.src_desc());
  const auto weights = b.constant(w, plain_md(wdims), pd.weights_desc());
  std::vector<std::pair<int, SlotId>> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}};
  if (bias != kNoValue) args.emplace_back(DNNL_ARG_BIAS, b.constant(bias, plain_md({ws[0]}), pd.bias_desc()));

  // A fused residual sum accumulates into a destination that already holds
  // the other operand: its own buffer when it dies here, else a copy.
  SlotId dst = kNoSlot;
  std::vector<SlotId> extra_reads;
  for (const auto& p : n.post_ops) {
    if (!fused || p.kind != PostOpKind::Sum) continue;
    const auto other = n.inputs[p.sum_input];
    if (b.dies_here(other) && b.md(other) == pd.dst_desc() && !b.same_storage(b.slot(other), src)) {
      dst = b.slot(other);
    } else {
      dst = b.new_slot(pd.dst_desc(), b.graph().value(out).name);
      b.add_reorder(b.slot(other), dst);
    }
    extra_reads.push_back(dst);
  }
  if (dst == kNoSlot) dst = b.new_slot(pd.dst_desc(), b.graph().value(out).name);
  args.emplace_back(DNNL_ARG_DST, dst);
  b.add_primitive(dnnl::convolution_forward(pd), pd, std::move(args), std::move(extra_reads));
  apply_post_ops_separately(b, n, dst, fused ? fusable : 0);
  b.define(out, dst);
}

}  // namespace pt2onnx::runtime
