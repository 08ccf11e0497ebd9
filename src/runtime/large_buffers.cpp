#include "runtime/large_buffers.h"

#include <malloc.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <new>

namespace pt2onnx::runtime {
namespace {

constexpr std::size_t kLine = 64;
constexpr std::size_t kHugePage = std::size_t{2} << 20;
// A new slab holds at least this much, so that a model's weights take a few.
constexpr std::size_t kSlab = std::size_t{8} << 20;

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

}  // namespace

void FreeBytes::operator()(std::byte* p) const { std::free(p); }

LargeBuffer allocate_large(std::size_t n, bool huge_pages) {
  if (n == 0) return LargeBuffer();
  const bool huge = huge_pages && n >= kHugePage;
  const std::size_t alignment = huge ? kHugePage : kLine;
  const std::size_t size = round_up(n, alignment);
  // A huge page is only mapped on a fault in a 2 MiB range with no page in
  // it yet. malloc keeps freed memory (pt2onnx's trim threshold), so without
  // the trim a buffer would often land on a model load's freed, still
  // mapped, 4 KiB pages, and about half a large model's weights would stay on
  // them: ViT-B/32's weight matmuls then ran 4 to 7 times slower in some runs.
  // Trimming first hands those pages back, so the buffer's first touch maps
  // huge pages, and it lowers the peak memory as well.
  if (huge) (void)::malloc_trim(0);
  void* p = std::aligned_alloc(alignment, size);
  if (p == nullptr) throw std::bad_alloc();
  // Advice only: a kernel without transparent huge pages refuses it, and the
  // memory works the same either way.
  if (huge) (void)::madvise(p, size, MADV_HUGEPAGE);
  return LargeBuffer(static_cast<std::byte*>(p));
}

void BufferSlabs::set_huge_pages(bool on) {
  std::lock_guard lock(mutex_);
  huge_pages_ = on;
}

std::byte* BufferSlabs::allocate(std::size_t n) {
  const std::size_t size = round_up(std::max<std::size_t>(n, 1), kLine);
  std::lock_guard lock(mutex_);
  if (slabs_.empty() || used_ + size > capacity_) {
    capacity_ = round_up(std::max(size, kSlab), kHugePage);
    slabs_.push_back(allocate_large(capacity_, huge_pages_));
    used_ = 0;
  }
  std::byte* p = slabs_.back().get() + used_;
  used_ += size;
  return p;
}

}  // namespace pt2onnx::runtime
