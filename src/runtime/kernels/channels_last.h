// Loops over channels-last (NHWC) and channel-blocked activations that
// oneDNN's primitives do, but split among the threads differently from the
// convolutions around them: a tensor a convolution wrote by runs of pixels,
// one run per thread, is best read and written by the same runs, so each
// thread finds its own cache lines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "runtime/dnnl_util.h"

namespace pt2onnx::runtime {

// How a 4-D float32 activation [N, C, H, W] is laid out as the [images,
// pixels, channels] that these loops walk: channels-last (acdb) is [N, H*W,
// C]; a channel-blocked layout (a grouped convolution's nChw8c, say) with C a
// multiple of the block B is [N*C/B, H*W, B], its C values per image being
// the B per block in the same order. `tag` is the layout. nullopt otherwise.
struct ChannelWalk {
  std::int64_t images, pixels, channels;
  memory::format_tag tag;
};
std::optional<ChannelWalk> channel_walk(const memory::desc& md, const std::vector<std::int64_t>& dims);

// The excitation step of a squeeze-excitation block, in place: x[n][p][c] *=
// scale[n][c] for x [images, pixels, channels] float32, on the calling
// thread's OpenMP team, one contiguous run of pixels per thread. oneDNN's
// binary primitive does the same work, but with two threads at batch 1 it
// ran several times slower than its work; on EfficientNet-B0 at batch 1 with
// two threads this saved 3 to 4% of the latency.
void channels_last_scale(float* x, const float* scale, std::int64_t images, std::int64_t pixels, std::int64_t channels);

// The squeeze of a squeeze-excitation block (and any global average pool)
// on the same walk: out[n][c] = the mean over p of x[n][p][c]. oneDNN's
// pooling splits such a tensor among the threads by channel blocks, while
// the convolution before it and the gate after it split it by pixels; with
// two threads at batch 1 each thread then read lines the other had written,
// and the gate's writes to those shared lines ran several times slower than
// its work. Here each thread sums its own run of pixels. The pixels are
// summed in chunks fixed by the shape alone (about 8,192 values each) and the
// chunks' sums added in order, so the result's bits do not depend on the
// number of threads. `partials` holds mean_partial_floats() floats.
std::int64_t mean_partial_floats(std::int64_t images, std::int64_t pixels, std::int64_t channels);
void channels_last_mean(const float* x, float* out, float* partials, std::int64_t images, std::int64_t pixels,
                        std::int64_t channels);

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

// A Concat of channels-last pieces along the channels into a channels-last
// output, split among the team by pixels as the convolutions that wrote the
// pieces split them.
void channels_last_concat(std::span<const ChannelsLastPiece> pieces, float* out, std::int64_t pixels,
                          std::int64_t channels);

}  // namespace pt2onnx::runtime
