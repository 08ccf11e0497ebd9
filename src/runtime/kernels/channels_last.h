// The excitation step of a squeeze-excitation block, done directly on the
// channels-last (NHWC) activation: every pixel's channels scaled by the
// image's gate, in place. oneDNN's binary primitive does the same work, but
// with two threads at batch 1 it ran several times slower than its work (it
// splits the tensor differently from the convolutions around it); this
// splits the pixels into one contiguous run per thread. On EfficientNet-B0
// at batch 1 with two threads it saves 3 to 4% of the latency.
#pragma once

#include <cstdint>

namespace pt2onnx::runtime {

// x[n][p][c] *= scale[n][c] for x [images, pixels, channels] float32, on the
// calling thread's OpenMP team.
void channels_last_scale(float* x, const float* scale, std::int64_t images, std::int64_t pixels, std::int64_t channels);

}  // namespace pt2onnx::runtime
