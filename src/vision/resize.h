// Image resizing that reproduces PIL's Image.resize(size, filter) on 8-bit
// images (Pillow 9.x, Resample.c and Geometry.c), which is what torchvision's
// Resize does to PIL images:
//  - bilinear and bicubic: separable convolution whose support widens by the
//    scale factor when shrinking (PIL's antialiasing), coefficients rounded to
//    22-bit fixed point, horizontal pass first (only over the rows the vertical
//    pass needs), each pass rounding to 8 bits;
//  - nearest: PIL's affine nearest-neighbour scaling (pixel centres, a
//    double-precision position stepped once per output pixel).
// Image.resize's optional reducing_gap pre-shrink is not used by torchvision
// and not reproduced.
#pragma once

#include <optional>
#include <string_view>

#include "vision/image.h"

namespace pt2onnx::vision {

enum class Interpolation { Nearest, Bilinear, Bicubic };

std::string_view interpolation_name(Interpolation interpolation);  // "bilinear"
std::optional<Interpolation> interpolation_from_name(std::string_view name);

// A new image of out_width x out_height with the input's channels; a copy when
// the size is unchanged (as PIL returns). Error(Internal) for a non-positive size.
Image resize(const Image& input, int out_width, int out_height, Interpolation interpolation);

}  // namespace pt2onnx::vision
