// JPEG decoding with libjpeg-turbo, set up as PIL sets it up (islow DCT,
// fancy upsampling, libjpeg's own YCbCr->RGB), so that the pixels equal
// PIL's Image.open(...).convert("RGB") bit for bit with the same library.
#pragma once

#include <cstdint>
#include <span>

#include "vision/image.h"

namespace pt2onnx::vision {

// Grayscale JPEGs give 1 channel, YCbCr and RGB ones 3; CMYK and YCCK (Adobe)
// are converted to RGB with PIL's formula. EXIF orientation is ignored, as
// Image.open ignores it. Throws Error(BadInput) for a malformed or truncated
// stream or a size over the limits.
Image decode_jpeg(std::span<const std::uint8_t> data, const ImageLimits& limits);

}  // namespace pt2onnx::vision
