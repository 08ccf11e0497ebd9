// The inputs verification runs through both the reference and the ONNX model.
// One input cannot characterise a nonlinear network, so several kinds are used:
// the seed script's seeded normal, constant images, the image range, extreme values,
// and a batch above 1 to exercise the dynamic batch axis.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/tensor.h"

namespace pt2onnx::verify {

struct Probe {
  std::string name;  // "randn(seed=42)", "zeros", ...
  Tensor input;      // float32 [N, C, H, W]
};

// batch_large: the batch size of the multi-image probe (> 1).
std::vector<Probe> make_probes(std::int64_t channels, std::int64_t size, std::int64_t batch_large = 3);

}  // namespace pt2onnx::verify
