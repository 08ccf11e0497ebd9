// The training-time transform chain, as torchvision 0.14 applies it to a PIL
// RGB image:
//   Resize(size, interpolation) -> [CenterCrop(crop)] -> ToTensor() -> Normalize(mean, std)
// Resize and CenterCrop work on 8-bit pixels exactly as PIL does (resize.h,
// crop.h); ToTensor and Normalize are float32 arithmetic in torch's order
// ((v / 255 - mean) / std), so the tensor equals torchvision's bit for bit
// whenever the 8-bit pixels do.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "vision/image.h"
#include "vision/resize.h"

namespace pt2onnx::vision {

struct Size2 {
  int height = 0;
  int width = 0;
  friend bool operator==(const Size2&, const Size2&) = default;
};

// Resize(N): the shorter side becomes N, the longer int(N * long / short).
// Resize((H, W)): exactly H x W.
struct ResizeSpec {
  enum class Mode { ShorterSide, Exact };
  Mode mode = Mode::Exact;
  int shorter_side = 0;  // Mode::ShorterSide
  Size2 size{224, 224};  // Mode::Exact
};

struct PreprocessSpec {
  ResizeSpec resize;
  std::optional<Size2> crop;  // CenterCrop, when set
  Interpolation interpolation = Interpolation::Bilinear;
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};  // ImageNet, RGB
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
};

// torchvision's _compute_resized_output_size for an image of this size.
Size2 resized_size(int width, int height, const ResizeSpec& resize);

// The tensor size every image gets: the crop if any, else the exact resize;
// nullopt when it depends on each image (shorter-side resize, no crop).
std::optional<Size2> fixed_output_size(const PreprocessSpec& spec);

// Resize and crop, still 8-bit (what the oracle tests compare with PIL).
Image resize_and_crop(const Image& image, const PreprocessSpec& spec);

// The whole chain into `out` (3 x H x W floats, channel-major), where H x W is
// what resize_and_crop gives; Error(BadInput) naming both sizes when `expected`
// differs from it. Gray images fill all three channels with their one channel.
void preprocess_into(const Image& image, const PreprocessSpec& spec, Size2 expected, std::span<float> out);

// Checks that the spec is usable (positive sizes, std not zero, finite values);
// Error(Usage) naming the bad field.
void validate(const PreprocessSpec& spec);

// Error(Usage) unless `spec` gives every image the model's `input` size (a
// shorter-side resize with no crop gives each image its own); the message
// says which flags to set. Export and infer judge the same spec alike.
void require_output_size(const PreprocessSpec& spec, Size2 input);

std::string describe(const PreprocessSpec& spec);  // "resize 256 (shorter side), crop 224x224, bilinear, ..."

}  // namespace pt2onnx::vision
