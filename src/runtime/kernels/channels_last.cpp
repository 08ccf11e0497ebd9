#include "runtime/kernels/channels_last.h"

#include <algorithm>

#include <omp.h>

#include "common/target_clones.h"

namespace pt2onnx::runtime {
namespace {

// px[p][c] *= s[c] for `count` pixels of `channels` channels.
PT2ONNX_TARGET_CLONES
void scale_pixels(float* px, const float* s, std::int64_t count, std::int64_t channels) {
  for (std::int64_t p = 0; p < count; ++p, px += channels) {
    for (std::int64_t c = 0; c < channels; ++c) px[c] *= s[c];
  }
}

}  // namespace

void channels_last_scale(float* x, const float* scale, std::int64_t images, std::int64_t pixels,
                         std::int64_t channels) {
  const std::int64_t total = images * pixels;
#pragma omp parallel
  {
    // One contiguous run of pixels per thread, cut where the image changes.
    const std::int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const std::int64_t per = total / threads, extra = total % threads;
    std::int64_t q = t * per + std::min(t, extra);
    const std::int64_t last = q + per + (t < extra ? 1 : 0);
    while (q < last) {
      const std::int64_t n = q / pixels, count = std::min(last, (n + 1) * pixels) - q;
      scale_pixels(x + q * channels, scale + n * channels, count, channels);
      q += count;
    }
  }
}

}  // namespace pt2onnx::runtime
