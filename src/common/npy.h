// NumPy .npy files (format versions 1.0, 2.0 and 3.0), float32 in C order only:
// the interchange format of `pt2onnx run` and of the test tools.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "pt2onnx/tensor.h"

namespace pt2onnx {

// Reads a '<f4', C-order array. Throws Error(Io) when the file cannot be read and
// Error(BadInput) naming the file and the fault for anything else (bad magic,
// header garbage, fortran_order, another dtype, truncated or trailing data).
Tensor read_npy(const std::filesystem::path& path);

// The same from bytes in memory; `name` is what errors call the source.
Tensor parse_npy(std::span<const std::byte> bytes, std::string_view name);

// Encodes a float32 tensor as a version 1.0 (2.0 if the header needs it) '<f4'
// C-order .npy; a rank-0 tensor is written with shape ().
std::vector<std::byte> encode_npy(const Tensor& tensor);

// Writes encode_npy(tensor) through a temporary file renamed into place, so a
// failed write never leaves a partial file at `path`. Throws Error(Io).
void write_npy(const std::filesystem::path& path, const Tensor& tensor);

}  // namespace pt2onnx
