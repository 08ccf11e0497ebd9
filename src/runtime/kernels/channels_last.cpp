#include "runtime/kernels/channels_last.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "common/target_clones.h"
#include "runtime/threads.h"

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

// acc[c] = the sum over `count` pixels of px[p][c] for exactly W channels,
// the running sums held in registers.
template <std::int64_t W>
[[gnu::always_inline]] inline void sum_pixels_narrow(const float* __restrict px, float* __restrict acc,
                                                     std::int64_t count) {
  float sum[W];
  for (std::int64_t c = 0; c < W; ++c) sum[c] = px[c];
  for (std::int64_t p = 1; p < count; ++p) {
    const float* row = px + p * W;
    for (std::int64_t c = 0; c < W; ++c) sum[c] += row[c];
  }
  for (std::int64_t c = 0; c < W; ++c) acc[c] = sum[c];
}

// acc[c] = the sum over `count` pixels of px[p][c]: in registers for the
// narrow maps (a channel block, or an early layer's few channels), else
// pixel by pixel into acc, which stays in the first-level cache.
PT2ONNX_TARGET_CLONES
void sum_pixels(const float* __restrict px, float* __restrict acc, std::int64_t count, std::int64_t channels) {
  switch (channels) {
    case 8:
      return sum_pixels_narrow<8>(px, acc, count);
    case 16:
      return sum_pixels_narrow<16>(px, acc, count);
    case 32:
      return sum_pixels_narrow<32>(px, acc, count);
    case 64:
      return sum_pixels_narrow<64>(px, acc, count);
    default:
      break;
  }
  std::copy(px, px + channels, acc);
  for (std::int64_t p = 1; p < count; ++p) {
    const float* row = px + p * channels;
    for (std::int64_t c = 0; c < channels; ++c) acc[c] += row[c];
  }
}

// out[c] = the sum over k of part[k * stride + c], in order of k, / divisor,
// for `width` channels.
constexpr std::int64_t kMeanBlock = 16;
PT2ONNX_TARGET_CLONES
void add_chunks(const float* part, float* out, std::int64_t chunks, std::int64_t stride, std::int64_t width,
                float divisor) {
  float sum[kMeanBlock];
  for (std::int64_t c = 0; c < width; ++c) sum[c] = part[c];
  for (std::int64_t k = 1; k < chunks; ++k) {
    const float* row = part + k * stride;
    for (std::int64_t c = 0; c < width; ++c) sum[c] += row[c];
  }
  for (std::int64_t c = 0; c < width; ++c) out[c] = sum[c] / divisor;
}

// Elements per chunk of channels_last_mean: 32 KB of float32, so a chunk's
// running sums stay in the first-level cache, and a 7x7 map of 1,152
// channels still has chunks for a second thread.
constexpr std::int64_t kMeanChunkElements = 8192;

// How channels_last_mean cuts a map's pixels: `count` chunks of `pixels`
// (the last may be shorter), fixed by the shape alone.
struct MeanChunks {
  MeanChunks(std::int64_t map_pixels, std::int64_t channels)
      : pixels(std::clamp<std::int64_t>(kMeanChunkElements / std::max<std::int64_t>(channels, 1), 1,
                                        std::max<std::int64_t>(map_pixels, 1))),
        count((map_pixels + pixels - 1) / pixels) {}
  std::int64_t pixels, count;
};

}  // namespace

std::optional<ChannelWalk> channel_walk(const memory::desc& md, const std::vector<std::int64_t>& dims) {
  using Tag = memory::format_tag;
  if (dims.size() != 4) return std::nullopt;
  const std::int64_t n = dims[0], c = dims[1], pixels = dims[2] * dims[3];
  if (md == memory::desc(dims, memory::data_type::f32, Tag::acdb)) return ChannelWalk{n, pixels, c, Tag::acdb};
  for (const auto& [blocked, block] : {std::pair{Tag::aBcd8b, 8}, std::pair{Tag::aBcd16b, 16}}) {
    if (c % block == 0 && md == memory::desc(dims, memory::data_type::f32, blocked)) {
      return ChannelWalk{n * c / block, pixels, block, blocked};
    }
  }
  return std::nullopt;
}

std::int64_t mean_partial_floats(std::int64_t images, std::int64_t pixels, std::int64_t channels) {
  return images * MeanChunks(pixels, channels).count * channels;
}

void channels_last_mean(const float* x, float* out, float* partials, std::int64_t images, std::int64_t pixels,
                        std::int64_t channels) {
  const MeanChunks cut(pixels, channels);
  const std::int64_t chunk = cut.pixels, chunks = cut.count;
  const auto divisor = static_cast<float>(pixels);
  on_team([&](std::int64_t t, std::int64_t threads) {
    // Each thread's run of (image, chunk) items, image by image: the same
    // pixels its run of channels_last_scale will take.
    const auto [first, last] = thread_run(images * chunks, threads, t);
    for (std::int64_t item = first; item < last; ++item) {
      const std::int64_t n = item / chunks, p = item % chunks * chunk;
      sum_pixels(x + (n * pixels + p) * channels, partials + item * channels, std::min(chunk, pixels - p), channels);
    }
#pragma omp barrier
    // The chunks' sums in order, 16 channels of one image per item.
    const std::int64_t blocks = (channels + kMeanBlock - 1) / kMeanBlock;
    const auto [begin, end] = thread_run(images * blocks, threads, t);
    for (std::int64_t item = begin; item < end; ++item) {
      const std::int64_t n = item / blocks, c = item % blocks * kMeanBlock;
      add_chunks(partials + n * chunks * channels + c, out + n * channels + c, chunks, channels,
                 std::min(kMeanBlock, channels - c), divisor);
    }
  });
}

void channels_last_normalized_concat(std::span<const ChannelsLastPiece> pieces, const float* a, const float* b,
                                     bool relu, float* out, std::int64_t pixels, std::int64_t channels) {
  parallel_for(pixels, [&](std::int64_t q) {
    std::int64_t offset = 0;
    for (const auto& piece : pieces) {
      affine_channels(piece.data + q * piece.channels, a + offset, b + offset, out + q * channels + offset,
                      piece.channels, relu);
      offset += piece.channels;
    }
  });
}

void channels_last_concat(std::span<const ChannelsLastPiece> pieces, float* out, std::int64_t pixels,
                          std::int64_t channels) {
  parallel_for(pixels, [&](std::int64_t q) {
    float* o = out + q * channels;
    for (const auto& piece : pieces) {
      std::memcpy(o, piece.data + q * piece.channels, static_cast<std::size_t>(piece.channels) * sizeof(float));
      o += piece.channels;
    }
  });
}

void channels_last_scale(float* x, const float* scale, std::int64_t images, std::int64_t pixels,
                         std::int64_t channels) {
  const std::int64_t total = images * pixels;
  on_team([&](std::int64_t t, std::int64_t threads) {
    // One contiguous run of pixels per thread, cut where the image changes.
    auto [q, last] = thread_run(total, threads, t);
    while (q < last) {
      const std::int64_t n = q / pixels, count = std::min(last, (n + 1) * pixels) - q;
      scale_pixels(x + q * channels, scale + n * channels, count, channels);
      q += count;
    }
  });
}

}  // namespace pt2onnx::runtime
