// Turning torch's (storage, offset, size, stride) description of a tensor into
// a dense Tensor. The geometry is checked against the storage's declared size
// when the pickle is read; the bytes are copied once the container has read
// every storage (the legacy format stores them after the pickle).
#pragma once

#include <memory>
#include <vector>

#include "checkpoint/value.h"

namespace pt2onnx::checkpoint {

// Throws Error(BadInput) if a size or stride is negative, the ranks differ, the
// arithmetic overflows, or any element would fall outside the storage.
TensorView make_tensor_view(StorageRef storage, std::int64_t storage_offset, Shape size, Shape stride);

// Copies a view's elements out of its (loaded) storage, row-major.
Tensor materialize_view(const TensorView& view);

// Materialises every tensor still alive and drops its storage reference. A
// storage used by exactly one tensor that covers it contiguously is moved,
// not copied, which keeps peak memory near the checkpoint's size. Views can
// be larger than their storage (a stride of 0 repeats elements), so the bytes
// copied in all must stay within max_copy_bytes, checked before allocating.
void materialize_tensors(const std::vector<std::weak_ptr<TensorData>>& tensors, std::uint64_t max_copy_bytes);

// The default copy budget for a checkpoint whose storages hold storage_bytes:
// every byte copied four times over, plus 256 MiB for broadcast views.
std::uint64_t default_copy_budget(std::uint64_t storage_bytes);

// Reverses the byte order of each element (files written on big-endian machines).
void byteswap_elements(std::vector<std::byte>& bytes, std::size_t element_size);

}  // namespace pt2onnx::checkpoint
