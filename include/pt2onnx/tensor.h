// A dense, contiguous, row-major tensor that owns its bytes (little-endian).
// The engine's inputs and outputs (include/pt2onnx/runtime.h), checkpoint weights and the
// reference's float32 activations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pt2onnx/dtype.h"

namespace pt2onnx {

using Shape = std::vector<std::int64_t>;

std::string shape_to_string(const Shape& shape);  // "[32, 3, 3, 3]"
// Product of dims; throws Error(BadInput) on a negative dim or overflow past 2^62.
std::int64_t shape_numel(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;
  // Zero-filled tensor.
  Tensor(DType dtype, Shape shape);
  // Takes ownership of bytes; their size must equal numel * dtype size.
  Tensor(DType dtype, Shape shape, std::vector<std::byte> bytes);

  [[nodiscard]] DType dtype() const { return dtype_; }
  [[nodiscard]] const Shape& shape() const { return shape_; }
  [[nodiscard]] std::int64_t dim(std::size_t i) const { return shape_.at(i); }
  [[nodiscard]] std::size_t rank() const { return shape_.size(); }
  [[nodiscard]] std::int64_t numel() const { return numel_; }
  [[nodiscard]] std::size_t nbytes() const { return bytes_.size(); }
  [[nodiscard]] std::span<const std::byte> bytes() const { return bytes_; }
  [[nodiscard]] std::span<std::byte> bytes() { return bytes_; }

  // Typed views; the dtype must match T (checked).
  [[nodiscard]] std::span<const float> f32() const;
  [[nodiscard]] std::span<float> f32();

  // Element i as double (bool as 0/1), whatever the dtype.
  [[nodiscard]] double element_as_double(std::int64_t i) const;
  // float64 sum of all elements.
  [[nodiscard]] double sum() const;
  // A float32 copy (exact for float16 and bfloat16; rounded for float64 and integers).
  [[nodiscard]] Tensor to_float32() const;
  // Same bytes, new shape with the same element count.
  [[nodiscard]] Tensor reshaped(Shape shape) const;

 private:
  DType dtype_ = DType::Float32;
  Shape shape_;
  std::int64_t numel_ = 0;
  std::vector<std::byte> bytes_;
};

// A float32 tensor from values (tests and small constants).
Tensor make_f32(Shape shape, std::vector<float> values);

// Rows (slices along axis 0) of `t`, in the order given, as one tensor.
Tensor take_rows(const Tensor& t, const std::vector<std::size_t>& rows);

// The parts, each with the same dtype and shape after axis 0, one after
// another along axis 0 (at least one part).
Tensor concat_rows(const std::vector<const Tensor*>& parts);

}  // namespace pt2onnx
