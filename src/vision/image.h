// An 8-bit image as the decoders produce it and the resize works on it: rows
// top to bottom, samples interleaved, 1 channel (gray) or 3 (RGB). Grayscale
// stays one channel until the tensor is written, because resizing three
// identical channels gives three identical results (PIL resamples each band
// alone), so the copy would only cost time on large mammograms.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
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

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;  // 1 (gray) or 3 (RGB)
  std::vector<std::uint8_t> pixels;

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

// Three identical channels from one (PIL's convert("RGB") of an "L" image);
// an RGB image is returned unchanged.
Image to_rgb(Image image);

}  // namespace pt2onnx::vision
