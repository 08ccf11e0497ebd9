// Operand checks shared by the reference's operators.
#pragma once

#include <cstdint>
#include <string_view>

#include <fmt/format.h>

#include "pt2onnx/error.h"
#include "pt2onnx/tensor.h"

namespace pt2onnx::reference {

inline void require_f32(const Tensor& t, std::string_view what) {
  if (t.dtype() != DType::Float32) {
    throw Error(ErrorKind::BadInput, fmt::format("{} is {}, expected float32", what, dtype_name(t.dtype())));
  }
}

inline void require_rank(const Tensor& t, std::size_t rank, std::string_view what) {
  require_f32(t, what);
  if (t.rank() != rank) {
    throw Error(ErrorKind::BadInput,
                fmt::format("{} has shape {}, expected rank {}", what, shape_to_string(t.shape()), rank));
  }
}

inline void require_shape(const Tensor& t, const Shape& shape, std::string_view what) {
  require_f32(t, what);
  if (t.shape() != shape) {
    throw Error(ErrorKind::BadInput,
                fmt::format("{} has shape {}, expected {}", what, shape_to_string(t.shape()), shape_to_string(shape)));
  }
}

// PyTorch's output size of a convolution or pooling window along one axis.
inline std::int64_t window_output_size(std::int64_t size, std::int64_t kernel, std::int64_t stride,
                                       std::int64_t padding, std::int64_t dilation) {
  if (kernel < 1 || stride < 1 || padding < 0 || dilation < 1) {
    throw Error(ErrorKind::BadInput, fmt::format("invalid window: kernel {}, stride {}, padding {}, dilation {}",
                                                 kernel, stride, padding, dilation));
  }
  const std::int64_t span = size + 2 * padding - dilation * (kernel - 1) - 1;
  if (span < 0) {
    throw Error(ErrorKind::BadInput,
                fmt::format("input size {} (padding {}) is smaller than the window of {} (dilation {})", size, padding,
                            kernel, dilation));
  }
  return span / stride + 1;
}

// The same with torch's ceil_mode for pools: ceil instead of floor, except
// that a last window starting in the end padding is dropped.
inline std::int64_t pool_output_size(std::int64_t size, std::int64_t kernel, std::int64_t stride, std::int64_t padding,
                                     bool ceil_mode) {
  const std::int64_t floor_size = window_output_size(size, kernel, stride, padding, 1);
  if (!ceil_mode) return floor_size;
  const std::int64_t span = size + 2 * padding - kernel;
  std::int64_t out = (span + stride - 1) / stride + 1;
  if ((out - 1) * stride >= size + padding) --out;
  return out;
}

}  // namespace pt2onnx::reference
