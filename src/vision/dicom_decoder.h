// DICOM decoding: our own parser (dicom_parser.h), uncompressed explicit and
// implicit VR little endian, 8-bit JPEG baseline and extended through our
// libjpeg-turbo decoder, and GDCM's codecs for JPEG lossless and 12-bit, JPEG-LS,
// JPEG 2000 and RLE; then the conversion to 8 bits defined in dicom_pixels.h.
// Multi-frame files give their first frame.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "vision/image.h"

namespace pt2onnx::vision {

// Throws Error(BadInput) for a malformed or truncated file, one without Pixel
// Data, pixel data a codec rejects, or a size over the limits;
// Error(Unsupported) for a transfer syntax, photometric interpretation or
// sample layout we do not convert.
Image decode_dicom(std::span<const std::uint8_t> data, const ImageLimits& limits);

// The first value of a DICOM decimal string ("40\60 " -> 40); nullopt when
// empty or not a finite number.
std::optional<double> parse_first_decimal(std::string_view text);

}  // namespace pt2onnx::vision
