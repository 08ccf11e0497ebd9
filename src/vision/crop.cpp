#include "vision/crop.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx::vision {

int center_crop_offset(int size, int crop) {
  const int diff = size - crop;
  // diff / 2 is exact or ends in .5; round half to even as Python does.
  int half = diff / 2;  // truncates towards zero
  if (diff % 2 != 0) {
    // diff / 2.0 = half + 0.5 * sign(diff); pick the even neighbour.
    const int other = diff > 0 ? half + 1 : half - 1;
    half = (half % 2 == 0) ? half : other;
  }
  return half;
}

Image center_crop(const Image& input, int crop_width, int crop_height) {
  if (crop_width <= 0 || crop_height <= 0) {
    throw_error(ErrorKind::Internal, fmt::format("center crop to {}x{}", crop_width, crop_height));
  }
  if (crop_width == input.width && crop_height == input.height) return input;
  // torchvision pads first (left/top get the smaller half), then crops the
  // padded image; a crop that fits needs no padding.
  const int pad_left = crop_width > input.width ? (crop_width - input.width) / 2 : 0;
  const int pad_top = crop_height > input.height ? (crop_height - input.height) / 2 : 0;
  const int pad_right = crop_width > input.width ? (crop_width - input.width + 1) / 2 : 0;
  const int pad_bottom = crop_height > input.height ? (crop_height - input.height + 1) / 2 : 0;
  const int padded_width = input.width + pad_left + pad_right;
  const int padded_height = input.height + pad_top + pad_bottom;
  const int left = center_crop_offset(padded_width, crop_width);
  const int top = center_crop_offset(padded_height, crop_height);

  Image out = make_image(crop_width, crop_height, input.channels);
  const int channels = input.channels;
  for (int y = 0; y < crop_height; ++y) {
    const int sy = y + top - pad_top;
    if (sy < 0 || sy >= input.height) continue;
    // Columns of the output row that fall on the input image.
    const int x_begin = std::max(0, pad_left - left);
    const int x_end = std::min(crop_width, input.width + pad_left - left);
    if (x_begin >= x_end) continue;
    const int sx = x_begin + left - pad_left;
    std::memcpy(out.row(y) + static_cast<std::ptrdiff_t>(x_begin) * channels,
                input.row(sy) + static_cast<std::ptrdiff_t>(sx) * channels,
                static_cast<std::size_t>(x_end - x_begin) * static_cast<std::size_t>(channels));
  }
  return out;
}

}  // namespace pt2onnx::vision
