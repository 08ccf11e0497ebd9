// How a DICOM frame becomes an 8-bit image. This is the one place that
// defines it; docs/infer.md states the same steps for users, and
// tests/oracle/test_vision_dicom.py redoes them with pydicom and numpy.
//
// Grayscale (MONOCHROME1, MONOCHROME2), per pixel, in float64:
//   1. x = the stored value: the low BitsStored bits of the BitsAllocated-bit
//      sample, sign-extended when PixelRepresentation is 1.
//   2. m = x * RescaleSlope + RescaleIntercept (1 and 0 when absent), as
//      pydicom's apply_modality_lut computes it.
//   3. A window [lo, hi] over m:
//        VOI window present (first WindowCenter c and WindowWidth w):
//          LINEAR (the default):  lo = c - 0.5 - (w - 1) / 2,  hi = c - 0.5 + (w - 1) / 2   (needs w >= 1)
//          LINEAR_EXACT:          lo = c - w / 2,              hi = c + w / 2               (needs w > 0)
//        otherwise (or when the window is invalid): lo = min(m), hi = max(m) over the frame.
//      t = clip((m - lo) / (hi - lo), 0, 1) when hi > lo, else (m > lo ? 1 : 0).
//      SIGMOID function: t = 1 / (1 + exp(-4 * (m - c) / w)) instead (needs w > 0).
//      These are DICOM PS3.3 C.11.2.1.2's functions scaled to [0, 1].
//   4. v = floor(t * 255 + 0.5), an integer 0..255.
//   5. MONOCHROME1 (white is the smallest value): v = 255 - v.
// VOI LUT Sequences and presentation states are not applied.
//
// Colour (RGB, 8 bits, either planar configuration; YBR_FULL, and the YCbCr
// a GDCM codec returns untouched for YBR_FULL_422, converted to RGB
// as pydicom's convert_color_space does, within one level): the samples as
// they are, no window.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "vision/image.h"

namespace pt2onnx::vision {

enum class Photometric { Monochrome1, Monochrome2, Rgb, YbrFull };

enum class VoiFunction { Linear, LinearExact, Sigmoid };

struct VoiWindow {
  double center = 0;
  double width = 0;
  VoiFunction function = VoiFunction::Linear;
};

// One frame's samples and what the header says about them.
struct DicomFrame {
  int width = 0;
  int height = 0;
  int samples_per_pixel = 1;  // 1 or 3
  int bits_allocated = 16;    // 8 or 16
  int bits_stored = 16;       // 1..bits_allocated
  bool is_signed = false;     // PixelRepresentation 1
  bool planar = false;        // PlanarConfiguration 1 (colour only)
  Photometric photometric = Photometric::Monochrome2;
  double rescale_slope = 1.0;
  double rescale_intercept = 0.0;
  std::optional<VoiWindow> window;
  // width * height * samples_per_pixel samples, little-endian when 16-bit.
  std::span<const std::uint8_t> data;
};

// Throws Error(BadInput) when the description and the data disagree, or
// Error(Unsupported) for a combination not handled (16-bit colour, say).
Image dicom_frame_to_image(const DicomFrame& frame);

}  // namespace pt2onnx::vision
