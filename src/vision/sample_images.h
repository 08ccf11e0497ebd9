// Sample images for the demo (`pt2onnx demo-images`): synthetic grayscale
// "scans" (a smooth background with a few soft bright masses and fine grain)
// in the formats and modes that `infer` reads: RGB and grayscale JPEG, RGB,
// RGBA and grayscale PNG, and a 12-bit MONOCHROME2 DICOM file with a VOI
// window. Odd sizes, so that the resize and crop have real work to do. The
// same bytes on every machine.
#pragma once

#include <string>
#include <vector>

#include "vision/image_encoder.h"

namespace pt2onnx::vision {

struct SampleImage {
  std::string file_name;    // e.g. "sample_1_rgb.jpg"
  std::string description;  // e.g. "JPEG, RGB, 517x389"
  Bytes bytes;
};

std::vector<SampleImage> sample_images();

}  // namespace pt2onnx::vision
