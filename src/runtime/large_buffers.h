// Memory for the buffers every inference sweeps: the activation arena and the
// reordered weights. Regions of 2 MiB and more are 2 MiB-aligned and asked to
// be backed by transparent huge pages (madvise; Debian's default THP mode
// gives huge pages only where asked), which spares the TLB misses of walking
// tens of megabytes in 4 KiB pages. Elsewhere the hint is simply ignored.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace pt2onnx::runtime {

struct FreeBytes {
  void operator()(std::byte* p) const;
};
using LargeBuffer = std::unique_ptr<std::byte[], FreeBytes>;

// n bytes (null for 0), 64-byte aligned; with huge_pages, 2 MiB-aligned and
// huge-page advised from 2 MiB on, after malloc has handed its free memory
// back to the kernel (so that the new buffer's pages are not old 4 KiB ones).
LargeBuffer allocate_large(std::size_t n, bool huge_pages = true);

// Many weight buffers carved from a few large regions, freed together.
class BufferSlabs {
 public:
  // n bytes, 64-byte aligned, valid while this object lives. Thread-safe.
  std::byte* allocate(std::size_t n);
  // For slabs made from now on (allocate_large's huge_pages).
  void set_huge_pages(bool on);

 private:
  std::mutex mutex_;
  bool huge_pages_ = true;
  std::vector<LargeBuffer> slabs_;
  std::size_t used_ = 0;      // in the last slab
  std::size_t capacity_ = 0;  // of the last slab
};

}  // namespace pt2onnx::runtime
