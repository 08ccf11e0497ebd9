#include "vision/image.h"

#include <algorithm>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx::vision {

void check_image_size(std::int64_t width, std::int64_t height, const ImageLimits& limits) {
  if (width <= 0 || height <= 0) {
    throw_error(ErrorKind::BadInput, fmt::format("image size {}x{} (width x height) is empty", width, height));
  }
  if (width > limits.max_side || height > limits.max_side) {
    throw_error(ErrorKind::BadInput, fmt::format("image size {}x{} exceeds the limit of {} pixels per side", width,
                                                 height, limits.max_side));
  }
  // Both sides are at most 2^31 here, so the product cannot overflow int64.
  if (width * height > limits.max_pixels) {
    throw_error(ErrorKind::BadInput, fmt::format("image size {}x{} ({} pixels) exceeds the limit of {} pixels", width,
                                                 height, width * height, limits.max_pixels));
  }
}

Image make_image_unset(int width, int height, int channels) {
  if (width <= 0 || height <= 0 || (channels != 1 && channels != 3)) {
    throw_error(ErrorKind::Internal, fmt::format("make_image: bad shape {}x{}x{}", width, height, channels));
  }
  Image image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.pixels.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                      static_cast<std::size_t>(channels));
  return image;
}

Image make_image(int width, int height, int channels) {
  Image image = make_image_unset(width, height, channels);
  std::fill(image.pixels.begin(), image.pixels.end(), std::uint8_t{0});
  return image;
}

Image to_rgb(Image image) {
  if (image.channels == 3) return image;
  Image rgb = make_image_unset(image.width, image.height, 3);
  const std::size_t n = image.pixels.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t v = image.pixels[i];
    rgb.pixels[3 * i] = v;
    rgb.pixels[3 * i + 1] = v;
    rgb.pixels[3 * i + 2] = v;
  }
  return rgb;
}

}  // namespace pt2onnx::vision
