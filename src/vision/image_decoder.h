// One entry point from a file to an 8-bit image, whatever its format. The
// format is taken from the bytes, never from the file name, so a text file
// named .png is reported as what it is.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "vision/image.h"

namespace pt2onnx::vision {

enum class ImageFormat { Jpeg, Png, Dicom, Unknown };

std::string_view image_format_name(ImageFormat format);

// JPEG: FF D8 FF. PNG: its 8-byte signature. DICOM: "DICM" at offset 128
// (Part 10 files). Raw DICOM datasets without the preamble are not sniffed.
ImageFormat sniff_image_format(std::span<const std::uint8_t> head);

// Decodes bytes of a sniffed format; Error(BadInput) for Unknown.
Image decode_image(std::span<const std::uint8_t> data, const ImageLimits& limits);

// The whole file; Error(Io) when it cannot be read, Error(BadInput) when it
// is empty or larger than limits.max_file_bytes.
std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path, const ImageLimits& limits);

// read_file_bytes + decode_image; errors carry "file PATH" as context.
Image load_image(const std::filesystem::path& path, const ImageLimits& limits);

}  // namespace pt2onnx::vision
