// A fully connected layer on one input row (batch 1, and each image of a
// batch split one image per thread) as the engine's own matrix-vector loop.
// Such a layer reads every weight once for one multiply-add: its speed is the
// speed at which the weights stream from memory. oneDNN 2.6's matmul on a
// [1, K] row read its blocked weights at about 12 GB/s on one thread of a
// 2-core AMD EPYC (Zen 4) with AVX-512; rows of the weight read in order,
// four at a time, streamed at about 19 GB/s (AlexNet's 9216x4096 layer: 12.8
// against 8.0 ms; docs/runtime.md, "Plans").
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "runtime/kernels/kernels.h"
#include "runtime/threads.h"

namespace pt2onnx::runtime {
namespace {

// GCC 12's AVX-512 headers pass an undefined vector as the unused merge
// operand of their unmasked intrinsics (the horizontal sum's among them),
// which its uninitialized-use warnings report.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

// y[r] = dot(w[r * k ...], x) + bias[r] for R consecutive rows of w, 16
// lanes of partial sums per row, the last k % 16 columns under a mask.
template <int R>
[[gnu::target("avx512f")]] void dot_rows(const float* w, const float* x, const float* bias, float* y, std::int64_t k) {
  __m512 sum[R];
  for (int r = 0; r < R; ++r) sum[r] = _mm512_setzero_ps();
  std::int64_t i = 0;
  for (; i + 16 <= k; i += 16) {
    const __m512 xv = _mm512_loadu_ps(x + i);
    for (int r = 0; r < R; ++r) sum[r] = _mm512_fmadd_ps(_mm512_loadu_ps(w + r * k + i), xv, sum[r]);
  }
  if (i < k) {
    const auto tail = static_cast<__mmask16>((1U << static_cast<unsigned>(k - i)) - 1U);
    const __m512 xv = _mm512_maskz_loadu_ps(tail, x + i);
    for (int r = 0; r < R; ++r) sum[r] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, w + r * k + i), xv, sum[r]);
  }
  for (int r = 0; r < R; ++r) y[r] = _mm512_reduce_add_ps(sum[r]) + (bias != nullptr ? bias[r] : 0.0f);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// Rows a thread takes at a time: four streams of the weight in flight.
constexpr std::int64_t kRows = 4;

}  // namespace

void gemv(const float* w, const float* x, const float* bias, float* y, std::int64_t n, std::int64_t k) {
  parallel_for((n + kRows - 1) / kRows, [&](std::int64_t g) {
    const auto row = g * kRows;
    const auto* b = bias != nullptr ? bias + row : nullptr;
    if (row + kRows <= n) {
      dot_rows<kRows>(w + row * k, x, b, y + row, k);
      return;
    }
    for (auto r = row; r < n; ++r) dot_rows<1>(w + r * k, x, bias != nullptr ? bias + r : nullptr, y + r, k);
  });
}

}  // namespace pt2onnx::runtime
