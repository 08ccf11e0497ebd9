#include "runtime/kernels/channels_last.h"

#include <algorithm>

#include <omp.h>

namespace pt2onnx::runtime {

void channels_last_scale(float* x, const float* scale, std::int64_t images, std::int64_t pixels,
                         std::int64_t channels) {
  const std::int64_t total = images * pixels;
#pragma omp parallel
  {
    // One contiguous run of pixels per thread.
    const std::int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const std::int64_t per = total / threads, extra = total % threads;
    const std::int64_t first = t * per + std::min(t, extra), last = first + per + (t < extra ? 1 : 0);
    for (std::int64_t q = first; q < last; ++q) {
      const float* s = scale + q / pixels * channels;
      float* px = x + q * channels;
      for (std::int64_t c = 0; c < channels; ++c) px[c] *= s[c];
    }
  }
}

}  // namespace pt2onnx::runtime
