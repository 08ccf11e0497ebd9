// The excitation step of a squeeze-excitation block, done directly on the
// channels-last (NHWC) activation: every pixel's channels scaled by the
// image's gate, in place. oneDNN's binary primitive does the same work, but
// with two threads at batch 1 it ran several times slower than its work (it
// splits the tensor differently from the convolutions around it); this
// splits the pixels into one contiguous run per thread. On EfficientNet-B0
// at batch 1 with two threads it saves 3 to 4% of the latency.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace pt2onnx::runtime {

// x[n][p][c] *= scale[n][c] for x [images, pixels, channels] float32, on the
// calling thread's OpenMP team.
void channels_last_scale(float* x, const float* scale, std::int64_t images, std::int64_t pixels, std::int64_t channels);

// DenseNet's Concat, BatchNormalization and ReLU in one pass over
// channels-last pieces: out[q][offset_i + c] = f(piece_i[q][c] * a[offset_i +
// c] + b[offset_i + c]) for every pixel q (all images' pixels in a row), f
// the ReLU or nothing. Concatenating and then normalising read and wrote
// the joined tensor twice.
struct ChannelsLastPiece {
  const float* data = nullptr;
  std::int64_t channels = 0;
};
// At most this many pieces (DenseNet-201's longest block joins 49).
inline constexpr std::size_t kMaxConcatPieces = 256;
void channels_last_normalized_concat(std::span<const ChannelsLastPiece> pieces, const float* a, const float* b,
                                     bool relu, float* out, std::int64_t pixels, std::int64_t channels);

}  // namespace pt2onnx::runtime
