// The inputs verification runs through both the reference and the ONNX model.
// One input cannot characterise a nonlinear network, so several kinds are used:
// the seed script's seeded normal, an image like those production sees (it
// covers the image range), constant images, extreme values, and a batch above
// 1 to exercise the dynamic batch axis. The batch
// stacks the single-image probes (distinct images, so that mixed-up rows
// show), which lets the reference reuse their outputs: in eval mode every
// image of a batch is computed on its own.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "pt2onnx/tensor.h"
#include "verify/compare.h"

namespace pt2onnx::verify {

struct Probe {
  std::string name;  // "randn(seed=42)", "zeros", ...
  Tensor input;      // float32 [N, C, H, W]
  ProbeRole role = ProbeRole::Stress;
  // For the batch probe: the single-image probe each row is (indices into the
  // returned list, all before this probe). Empty for a single-image probe.
  std::vector<std::size_t> rows;
};

// The normalisation the model was trained with (torchvision's Normalize on
// [0, 1] pixels), for the image-like probe; ImageNet's by default.
struct Normalization {
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
};

// A smooth 8-bit image of `size` x `size` (shaded regions, a few shapes with
// hard edges, sensor noise), seeded, put through ToTensor and Normalize:
// [1, channels, size, size]. Channels beyond three reuse the last mean and std.
Tensor image_like(std::int64_t channels, std::int64_t size, const Normalization& normalization, std::uint64_t seed);

// batch_large: the batch size of the multi-image probe (> 1); its rows cycle
// through the single-image probes in order.
std::vector<Probe> make_probes(std::int64_t channels, std::int64_t size, std::int64_t batch_large = 3,
                               const Normalization& normalization = {});

}  // namespace pt2onnx::verify
