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

// One pixel's channels of one piece: y[c] = x[c] * a[c] + b[c], then the ReLU.
PT2ONNX_TARGET_CLONES
void affine_channels(const float* x, const float* a, const float* b, float* y, std::int64_t channels, bool relu) {
  if (relu) {
    for (std::int64_t c = 0; c < channels; ++c) y[c] = std::max(x[c] * a[c] + b[c], 0.0f);
  } else {
    for (std::int64_t c = 0; c < channels; ++c) y[c] = x[c] * a[c] + b[c];
  }
}

}  // namespace

void channels_last_normalized_concat(std::span<const ChannelsLastPiece> pieces, const float* a, const float* b,
                                     bool relu, float* out, std::int64_t pixels, std::int64_t channels) {
#pragma omp parallel for schedule(static)
  for (std::int64_t q = 0; q < pixels; ++q) {
    std::int64_t offset = 0;
    for (const auto& piece : pieces) {
      affine_channels(piece.data + q * piece.channels, a + offset, b + offset, out + q * channels + offset,
                      piece.channels, relu);
      offset += piece.channels;
    }
  }
}

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
