// SiLU (x * sigmoid(x), EfficientNet's activation) as the engine's own loop
// over a finished tensor, where oneDNN would fuse it into the convolution as
// its eltwise_swish post-op. On this project's AVX-512 machine oneDNN 2.6's
// fused swish cost more per element than this separate pass, the pass's
// memory traffic included. On one thread, a convolution plain / with the
// fused swish / plain then this loop: 1x1 16->96 at 112x112 0.22 / 0.59 /
// 0.49 ms, depthwise 3x3 32 channels at 112x112 0.11 / 0.26 / 0.19 ms, 1x1
// 192->1152 at 7x7 0.107 / 0.125 / 0.119 ms. docs/runtime.md ("Plans") has
// the whole-model figures.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "runtime/kernels/kernels.h"
#include "runtime/threads.h"

namespace pt2onnx::runtime {
namespace {

// GCC 12's AVX-512 headers pass an undefined vector as the unused merge
// operand of their unmasked intrinsics, which -Wmaybe-uninitialized reports.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// x / (1 + exp(-x)) on 16 lanes. exp(t) = 2^n exp(r) with n = round(t log2 e)
// and r = t - n ln 2 (ln 2 in two parts, so r is exact to float precision),
// |r| <= ln2/2, exp(r) by its Taylor series to r^6 (truncation below 1.2e-7
// relative), 2^n applied by scalef. t is clamped to [-87, 88] so that 2^n
// stays finite; above x = 87 sigmoid is 1 to float precision. Relative error
// against a double-precision SiLU: under 4e-7 (tests/runtime/silu_test.cpp).
[[gnu::target("avx512f")]] inline __m512 silu16(__m512 x) {
  const __m512 t = _mm512_min_ps(_mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), x), _mm512_set1_ps(-87.0f)),
                                 _mm512_set1_ps(88.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(t, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), t);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606820309417232e-6f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720.0f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  const __m512 d = _mm512_add_ps(_mm512_scalef_ps(p, n), _mm512_set1_ps(1.0f));
  // 1 / d from the 14-bit estimate and one Newton step (relative error near
  // 2^-28): a 16-lane division takes several times as long on many AVX-512
  // CPUs.
  __m512 inv = _mm512_rcp14_ps(d);
  inv = _mm512_fmadd_ps(_mm512_fnmadd_ps(d, inv, _mm512_set1_ps(1.0f)), inv, inv);
  // Below -88 the clamped exp would leave x / exp(88), far from x e^x for a
  // huge x: zero there instead (the true value is under 6e-37). NaN compares
  // unordered and is kept.
  const __mmask16 keep = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-88.0f), _CMP_NLT_UQ);
  return _mm512_maskz_mul_ps(keep, x, inv);
}

[[gnu::target("avx512f")]] void silu_avx512(const float* x, float* y, std::int64_t count) {
  std::int64_t i = 0;
  for (; i + 16 <= count; i += 16) _mm512_storeu_ps(y + i, silu16(_mm512_loadu_ps(x + i)));
  if (i < count) {
    const auto tail = static_cast<__mmask16>((1U << static_cast<unsigned>(count - i)) - 1U);
    _mm512_mask_storeu_ps(y + i, tail, silu16(_mm512_maskz_loadu_ps(tail, x + i)));
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// Floats a thread takes at a time: 32 KiB, a level-1 cache's worth.
constexpr std::int64_t kChunk = 8192;

}  // namespace

void silu(const float* x, float* y, std::int64_t count) {
  parallel_for((count + kChunk - 1) / kChunk, [&](std::int64_t c) {
    const auto first = c * kChunk;
    silu_avx512(x + first, y + first, std::min(kChunk, count - first));
  });
}

}  // namespace pt2onnx::runtime
