#include "checkpoint/tensor_rebuild.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include <fmt/format.h>

#include "common/checked_math.h"
#include "pt2onnx/error.h"

namespace pt2onnx::checkpoint {
namespace {

[[noreturn]] void bad_view(const TensorView& v, const std::string& what) {
  throw_error(ErrorKind::BadInput,
              fmt::format("tensor of size {} stride {} at offset {} in storage '{}' ({} elements of {}): {}",
                          shape_to_string(v.size), shape_to_string(v.stride), v.storage_offset, v.storage.data->key,
                          v.storage.numel, dtype_name(v.storage.data->dtype), what));
}

bool is_contiguous(const TensorView& v) {
  std::int64_t expected = 1;
  for (std::size_t i = v.size.size(); i-- > 0;) {
    if (v.size[i] != 1 && v.stride[i] != expected) return false;
    expected *= v.size[i];
  }
  return true;
}

}  // namespace

TensorView make_tensor_view(StorageRef storage, std::int64_t storage_offset, Shape size, Shape stride) {
  TensorView view{std::move(storage), storage_offset, std::move(size), std::move(stride)};
  if (view.size.size() != view.stride.size()) bad_view(view, "size and stride have different ranks");
  if (view.storage_offset < 0) bad_view(view, "negative storage offset");
  std::int64_t numel = 1;
  std::int64_t last = view.storage_offset;  // index of the last element
  for (std::size_t i = 0; i < view.size.size(); ++i) {
    if (view.size[i] < 0) bad_view(view, "negative size");
    if (view.stride[i] < 0) bad_view(view, "negative stride");
    auto n = checked_mul(numel, view.size[i]);
    if (!n) bad_view(view, "element count overflows");
    numel = *n;
    if (view.size[i] == 0) continue;
    auto reach = checked_mul(view.size[i] - 1, view.stride[i]);
    auto sum = reach ? checked_add(last, *reach) : std::nullopt;
    if (!sum) bad_view(view, "element index overflows");
    last = *sum;
  }
  if (numel == 0) {
    if (view.storage_offset > view.storage.numel) bad_view(view, "storage offset past the end of the storage");
  } else if (last >= view.storage.numel) {
    bad_view(view, fmt::format("element {} is past the end of the storage", last));
  }
  if (!checked_mul<std::int64_t>(numel, static_cast<std::int64_t>(dtype_size(view.storage.data->dtype)))) {
    bad_view(view, "byte size overflows");
  }
  return view;
}

Tensor materialize_view(const TensorView& view) {
  const StorageData& storage = *view.storage.data;
  const std::size_t esize = dtype_size(storage.dtype);
  // make_tensor_view checked the view against the declared size; the container
  // checked the bytes it read against the same size. Check again: cheap, and
  // the two happen far apart.
  if (!storage.loaded || storage.bytes.size() != static_cast<std::size_t>(storage.numel) * esize ||
      view.storage.element_offset + view.storage.numel > storage.numel) {
    throw_error(ErrorKind::BadInput, fmt::format("storage '{}' has no data or the wrong amount", storage.key));
  }
  Tensor out(storage.dtype, view.size);
  if (out.numel() == 0) return out;
  const std::byte* base =
      storage.bytes.data() + static_cast<std::size_t>(view.storage.element_offset + view.storage_offset) * esize;
  std::byte* dst = out.bytes().data();
  if (is_contiguous(view)) {
    std::memcpy(dst, base, out.nbytes());
    return out;
  }
  // Walk the index space row-major, copying the innermost dimension as a run.
  const std::size_t rank = view.size.size();
  const std::size_t inner = rank - 1;
  const auto inner_n = static_cast<std::size_t>(view.size[inner]);
  const auto inner_stride = static_cast<std::size_t>(view.stride[inner]) * esize;
  std::vector<std::int64_t> index(rank, 0);
  const std::int64_t rows = out.numel() / view.size[inner];
  for (std::int64_t row = 0; row < rows; ++row) {
    std::int64_t src_elem = 0;
    for (std::size_t d = 0; d < inner; ++d) src_elem += index[d] * view.stride[d];
    const std::byte* src = base + static_cast<std::size_t>(src_elem) * esize;
    if (inner_stride == esize) {
      std::memcpy(dst, src, inner_n * esize);
      dst += inner_n * esize;
    } else {
      for (std::size_t j = 0; j < inner_n; ++j, dst += esize) std::memcpy(dst, src + j * inner_stride, esize);
    }
    for (std::size_t d = inner; d-- > 0;) {
      if (++index[d] < view.size[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

std::uint64_t default_copy_budget(std::uint64_t storage_bytes) {
  constexpr std::uint64_t kCopies = 4;
  constexpr std::uint64_t kSlack = std::uint64_t{256} << 20;
  const auto copies = checked_mul(storage_bytes, kCopies);
  const auto budget = copies ? checked_add(*copies, kSlack) : std::nullopt;
  return budget.value_or(~std::uint64_t{0});
}

void materialize_tensors(const std::vector<std::weak_ptr<TensorData>>& tensors, std::uint64_t max_copy_bytes) {
  std::uint64_t copied = 0;
  std::vector<std::shared_ptr<TensorData>> alive;
  std::unordered_map<const StorageData*, int> users;
  for (const auto& weak : tensors) {
    auto t = weak.lock();
    if (!t || !t->pending) continue;
    ++users[t->pending->storage.data.get()];
    alive.push_back(std::move(t));
  }
  for (auto& t : alive) {
    if (!t->pending) continue;  // the same tensor listed twice
    TensorView& view = *t->pending;
    StorageData& storage = *view.storage.data;
    const bool whole = view.storage.element_offset == 0 && view.storage_offset == 0 &&
                       view.storage.numel == storage.numel && is_contiguous(view);
    // The storage may also be held by a bare Storage value in the tree; then it must stay.
    const bool sole_owner = users[&storage] == 1 && view.storage.data.use_count() == 1;
    if (whole && sole_owner && storage.loaded && shape_numel(view.size) == storage.numel &&
        storage.bytes.size() == static_cast<std::size_t>(storage.numel) * dtype_size(storage.dtype)) {
      t->tensor = Tensor(storage.dtype, view.size, std::move(storage.bytes));
      storage.bytes = {};
      storage.loaded = false;
    } else {
      const auto nbytes = static_cast<std::uint64_t>(shape_numel(view.size)) * dtype_size(storage.dtype);
      if (nbytes > max_copy_bytes - copied) {
        bad_view(view, fmt::format("materialising it would copy more than {} bytes in all (views that repeat "
                                   "their storage's elements many times)",
                                   max_copy_bytes));
      }
      copied += nbytes;
      t->tensor = materialize_view(view);
    }
    t->pending.reset();
  }
}

void byteswap_elements(std::vector<std::byte>& bytes, std::size_t element_size) {
  if (element_size <= 1) return;
  for (std::size_t i = 0; i + element_size <= bytes.size(); i += element_size) {
    std::reverse(bytes.begin() + static_cast<std::ptrdiff_t>(i),
                 bytes.begin() + static_cast<std::ptrdiff_t>(i + element_size));
  }
}

}  // namespace pt2onnx::checkpoint
