// Sliding-window geometry shared by Conv and the pools: explicit pads or
// auto_pad, strides, dilations, ceil_mode, and the output size they give.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/attributes.h"

namespace pt2onnx::runtime {

struct WindowGeometry {
  std::vector<std::int64_t> kernel;
  std::vector<std::int64_t> strides;
  std::vector<std::int64_t> dilations;  // ONNX convention: 1 is dense
  std::vector<std::int64_t> pad_begin;
  std::vector<std::int64_t> pad_end;  // as given or derived; see ceil_extra
  std::vector<std::int64_t> output;
  // Padding past pad_end that ceil_mode needs so that the last window fits
  // (what a floor-based kernel must add to pad_end to produce `output`).
  std::vector<std::int64_t> ceil_extra;
};

// `input` and `kernel` are spatial sizes. Reads strides, dilations, pads,
// auto_pad and (when allow_ceil_mode) ceil_mode from attrs. Throws
// Error(BadInput) for inconsistent attributes or an empty output.
WindowGeometry window_geometry(const AttributeMap& attrs, const std::vector<std::int64_t>& input,
                               const std::vector<std::int64_t>& kernel, bool allow_ceil_mode, bool allow_dilations);

}  // namespace pt2onnx::runtime
