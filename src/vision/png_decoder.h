// PNG decoding with libspng, giving the pixels of PIL's
// Image.open(...).convert("RGB"): alpha and tRNS dropped (not composited),
// palettes expanded, gamma and sBIT ignored.
#pragma once

#include <cstdint>
#include <span>

#include "vision/image.h"

namespace pt2onnx::vision {

// Gray and gray+alpha PNGs give 1 channel, RGB, RGBA and palette ones 3.
// 16-bit samples keep their high byte (PIL's ";16B" raw modes), except 16-bit
// grayscale: PIL opens that as a 32-bit "I" image and convert("RGB") clips it,
// so values over 255 become 255. We do the same, because training did.
// Throws Error(BadInput) for a malformed or truncated file or a size over the limits.
Image decode_png(std::span<const std::uint8_t> data, const ImageLimits& limits);

}  // namespace pt2onnx::vision
