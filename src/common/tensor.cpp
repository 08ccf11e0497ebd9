#include "pt2onnx/tensor.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "pt2onnx/error.h"

namespace pt2onnx {
namespace {

template <typename T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

std::string shape_to_string(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

std::int64_t shape_numel(const Shape& shape) {
  constexpr std::int64_t kMax = std::int64_t{1} << 62;
  std::int64_t n = 1;
  for (auto d : shape) {
    if (d < 0) throw_error(ErrorKind::BadInput, fmt::format("negative dimension in shape {}", shape_to_string(shape)));
    if (d != 0 && n > kMax / d)
      throw_error(ErrorKind::BadInput, fmt::format("shape {} is too large", shape_to_string(shape)));
    n *= d;
  }
  return n;
}

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)), numel_(shape_numel(shape_)) {
  bytes_.resize(static_cast<std::size_t>(numel_) * dtype_size(dtype_));
}

Tensor::Tensor(DType dtype, Shape shape, std::vector<std::byte> bytes)
    : dtype_(dtype), shape_(std::move(shape)), numel_(shape_numel(shape_)), bytes_(std::move(bytes)) {
  if (bytes_.size() != static_cast<std::size_t>(numel_) * dtype_size(dtype_)) {
    throw_error(ErrorKind::Internal, fmt::format("tensor of shape {} and dtype {} given {} bytes",
                                                 shape_to_string(shape_), dtype_name(dtype_), bytes_.size()));
  }
}

std::span<const float> Tensor::f32() const {
  if (dtype_ != DType::Float32)
    throw_error(ErrorKind::Internal, fmt::format("expected float32 tensor, got {}", dtype_name(dtype_)));
  return {reinterpret_cast<const float*>(bytes_.data()), static_cast<std::size_t>(numel_)};
}

std::span<float> Tensor::f32() {
  if (dtype_ != DType::Float32)
    throw_error(ErrorKind::Internal, fmt::format("expected float32 tensor, got {}", dtype_name(dtype_)));
  return {reinterpret_cast<float*>(bytes_.data()), static_cast<std::size_t>(numel_)};
}

double Tensor::element_as_double(std::int64_t i) const {
  const std::byte* p = bytes_.data() + static_cast<std::size_t>(i) * dtype_size(dtype_);
  switch (dtype_) {
    case DType::Float32:
      return load<float>(p);
    case DType::Float16:
      return half_to_float(load<std::uint16_t>(p));
    case DType::BFloat16:
      return bfloat16_to_float(load<std::uint16_t>(p));
    case DType::Float64:
      return load<double>(p);
    case DType::Int64:
      return static_cast<double>(load<std::int64_t>(p));
    case DType::Int32:
      return load<std::int32_t>(p);
    case DType::Int16:
      return load<std::int16_t>(p);
    case DType::Int8:
      return load<std::int8_t>(p);
    case DType::UInt8:
      return load<std::uint8_t>(p);
    case DType::Bool:
      return load<std::uint8_t>(p) != 0 ? 1.0 : 0.0;
  }
  return 0.0;
}

double Tensor::sum() const {
  double s = 0.0;
  for (std::int64_t i = 0; i < numel_; ++i) s += element_as_double(i);
  return s;
}

Tensor Tensor::to_float32() const {
  if (dtype_ == DType::Float32) return *this;
  Tensor out(DType::Float32, shape_);
  auto dst = out.f32();
  for (std::int64_t i = 0; i < numel_; ++i) dst[static_cast<std::size_t>(i)] = static_cast<float>(element_as_double(i));
  return out;
}

Tensor Tensor::reshaped(Shape shape) const {
  if (shape_numel(shape) != numel_) {
    throw_error(ErrorKind::Internal,
                fmt::format("cannot reshape {} to {}", shape_to_string(shape_), shape_to_string(shape)));
  }
  Tensor out = *this;
  out.shape_ = std::move(shape);
  return out;
}

Tensor make_f32(Shape shape, std::vector<float> values) {
  Tensor t(DType::Float32, std::move(shape));
  if (values.size() != static_cast<std::size_t>(t.numel())) {
    throw_error(ErrorKind::Internal, "make_f32: value count does not match shape");
  }
  std::memcpy(t.bytes().data(), values.data(), values.size() * sizeof(float));
  return t;
}

Tensor take_rows(const Tensor& t, const std::vector<std::size_t>& rows) {
  if (t.rank() == 0 || t.dim(0) == 0) throw_error(ErrorKind::Internal, "take_rows: the tensor has no rows");
  Shape shape = t.shape();
  shape[0] = static_cast<std::int64_t>(rows.size());
  Tensor out(t.dtype(), shape);
  const std::size_t row_bytes = t.nbytes() / static_cast<std::size_t>(t.dim(0));
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (rows[r] >= static_cast<std::size_t>(t.dim(0))) throw_error(ErrorKind::Internal, "take_rows: row out of range");
    std::memcpy(out.bytes().data() + r * row_bytes, t.bytes().data() + rows[r] * row_bytes, row_bytes);
  }
  return out;
}

Tensor concat_rows(const std::vector<const Tensor*>& parts) {
  if (parts.empty() || parts.front()->rank() == 0) throw_error(ErrorKind::Internal, "concat_rows: nothing to join");
  Shape shape = parts.front()->shape();
  shape[0] = 0;
  for (const Tensor* part : parts) {
    const bool alike = part->dtype() == parts.front()->dtype() && part->rank() == shape.size() &&
                       std::equal(part->shape().begin() + 1, part->shape().end(), shape.begin() + 1);
    if (!alike) throw_error(ErrorKind::Internal, "concat_rows: the parts differ in dtype or row shape");
    shape[0] += part->dim(0);
  }
  Tensor out(parts.front()->dtype(), shape);
  std::byte* dst = out.bytes().data();
  for (const Tensor* part : parts) {
    if (part->nbytes() > 0) std::memcpy(dst, part->bytes().data(), part->nbytes());
    dst += part->nbytes();
  }
  return out;
}

}  // namespace pt2onnx
