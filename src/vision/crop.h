// torchvision's CenterCrop on PIL images (0.14): pad with zeros when the crop
// is larger than the image, then crop at round((size - crop) / 2) with
// Python's round-half-to-even.
#pragma once

#include "vision/image.h"

namespace pt2onnx::vision {

// Offset of a centered crop: Python's int(round((size - crop) / 2.0)).
int center_crop_offset(int size, int crop);

Image center_crop(const Image& input, int crop_width, int crop_height);

}  // namespace pt2onnx::vision
