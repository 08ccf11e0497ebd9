// DICOM decoding with GDCM: every transfer syntax GDCM reads (uncompressed,
// RLE, JPEG baseline and lossless, JPEG-LS, JPEG 2000), then the conversion to
// 8 bits defined in dicom_pixels.h. Multi-frame files give their first frame.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "vision/image.h"

namespace pt2onnx::vision {

// Throws Error(BadInput) for a file GDCM cannot read, one without Pixel Data,
// or one whose size is over the limits; Error(Unsupported) for a
// photometric interpretation or sample layout we do not convert.
Image decode_dicom(std::span<const std::uint8_t> data, const ImageLimits& limits);

// The first value of a DICOM decimal string ("40\60 " -> 40); nullopt when
// empty or not a finite number.
std::optional<double> parse_first_decimal(std::string_view text);

}  // namespace pt2onnx::vision
