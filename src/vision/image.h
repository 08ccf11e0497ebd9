// An 8-bit image as the decoders produce it and the resize works on it: rows
// top to bottom, samples interleaved, 1 channel (gray) or 3 (RGB). Grayscale
// stays one channel until the tensor is written, because resizing three
// identical channels gives three identical results (PIL resamples each band
// alone), so the copy would only cost time on large mammograms.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <utility>
#include <vector>

namespace pt2onnx::vision {

// Caps applied before any pixel buffer is allocated. An image file declares its
// size in a header that may lie; these keep a hostile or broken file from
// asking for gigabytes.
struct ImageLimits {
  std::int64_t max_side = std::int64_t{1} << 15;        // pixels per side
  std::int64_t max_pixels = std::int64_t{1} << 28;      // width * height (one frame)
  std::int64_t max_file_bytes = std::int64_t{1} << 31;  // whole input file
};

// std::allocator, except that value-initialising a byte leaves it as it is:
// a buffer that a decoder or a resize pass writes in full is not zeroed first
// (1.3 MB per 512x512 JPEG through the default preprocessing).
template <typename T>
struct UninitializedAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {                             // NOLINT(readability-identifier-naming): the allocator interface's names
    using other = UninitializedAllocator<U>;  // NOLINT(readability-identifier-naming)
  };
  UninitializedAllocator() = default;
  template <typename U>
  explicit UninitializedAllocator(const UninitializedAllocator<U>& /*other*/) noexcept {}
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;  // default-, not value-initialised
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

using PixelBuffer = std::vector<std::uint8_t, UninitializedAllocator<std::uint8_t>>;

// Pixels compare with plain byte vectors (tests, decoders' expectations).
inline bool operator==(const PixelBuffer& a, const std::vector<std::uint8_t>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;  // 1 (gray) or 3 (RGB)
  PixelBuffer pixels;

  [[nodiscard]] std::size_t row_bytes() const {
    return static_cast<std::size_t>(width) * static_cast<std::size_t>(channels);
  }
  [[nodiscard]] std::uint8_t* row(int y) { return pixels.data() + static_cast<std::size_t>(y) * row_bytes(); }
  [[nodiscard]] const std::uint8_t* row(int y) const {
    return pixels.data() + static_cast<std::size_t>(y) * row_bytes();
  }
};

// Throws Error(BadInput) naming the size when a side is zero or negative, a
// side exceeds limits.max_side, or width * height exceeds limits.max_pixels.
void check_image_size(std::int64_t width, std::int64_t height, const ImageLimits& limits);

// A zero-filled image; the size must already be checked (throws Internal if
// channels is not 1 or 3 or a side is not positive).
Image make_image(int width, int height, int channels);
// The same, its pixels left unset, for a caller that writes every one.
Image make_image_unset(int width, int height, int channels);

// Three identical channels from one (PIL's convert("RGB") of an "L" image);
// an RGB image is returned unchanged.
Image to_rgb(Image image);

}  // namespace pt2onnx::vision
