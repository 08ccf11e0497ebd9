// allocate_large and BufferSlabs: the alignment each promises, slab
// allocations that never overlap, including ones larger than a slab, and huge
// pages under a buffer placed where malloc's freed memory was.
#include "runtime/large_buffers.h"

#include <malloc.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace pt2onnx::runtime {
namespace {

std::uintptr_t address(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

TEST(RuntimeLargeBuffers, AlignmentAndZeroSize) {
  EXPECT_EQ(allocate_large(0), nullptr);
  const auto small = allocate_large(1000);
  EXPECT_EQ(address(small.get()) % 64, 0u);
  const std::size_t big_size = (std::size_t{2} << 20) + 3;
  const auto big = allocate_large(big_size);
  EXPECT_EQ(address(big.get()) % (std::size_t{2} << 20), 0u);
  std::memset(big.get(), 1, big_size);  // all of it is usable
}

TEST(RuntimeLargeBuffers, SlabsHandOutDisjointAlignedRegions) {
  BufferSlabs slabs;
  std::vector<std::pair<std::uintptr_t, std::size_t>> regions;
  for (std::size_t n : {std::size_t{1}, std::size_t{100}, std::size_t{64}, std::size_t{5} << 20, std::size_t{20} << 20,
                        std::size_t{3}, std::size_t{7} << 20}) {
    std::byte* p = slabs.allocate(n);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(address(p) % 64, 0u) << n;
    std::memset(p, 2, n);
    regions.emplace_back(address(p), n);
  }
  std::sort(regions.begin(), regions.end());
  for (std::size_t i = 1; i < regions.size(); ++i) {
    EXPECT_GE(regions[i].first, regions[i - 1].first + regions[i - 1].second);
  }
}

// Kernel's transparent huge page mode, e.g. "madvise" ("" when unknown).
std::string thp_mode() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto open = text.find('[');
  const auto close = text.find(']', open);
  return open == std::string::npos || close == std::string::npos ? "" : text.substr(open + 1, close - open - 1);
}

// Bytes on huge pages in the mappings that overlap [begin, end), from /proc/self/smaps.
std::size_t huge_page_bytes(std::uintptr_t begin, std::uintptr_t end) {
  std::ifstream in("/proc/self/smaps");
  std::string line;
  bool overlaps = false;
  std::size_t total = 0;
  while (std::getline(in, line)) {
    std::uintptr_t lo = 0;
    std::uintptr_t hi = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> lo >> dash >> hi && dash == '-') {
      overlaps = lo < end && begin < hi;
    } else if (overlaps && line.rfind("AnonHugePages:", 0) == 0) {
      std::istringstream fields(line.substr(sizeof "AnonHugePages:" - 1));
      std::size_t kib = 0;
      fields >> kib;
      total += kib << 10;
    }
  }
  return total;
}

// pt2onnx keeps freed memory in malloc (its trim threshold), and a model's
// load frees hundreds of megabytes just before the weights' buffers are
// made. A buffer placed on those still-mapped 4 KiB pages got no huge pages,
// and ViT-B/32's weight matmuls ran several times slower in some runs.
TEST(RuntimeLargeBuffers, BufferWhereFreedMemoryWasGetsHugePages) {
  const auto mode = thp_mode();
  if (mode != "madvise" && mode != "always") GTEST_SKIP() << "no transparent huge pages here (" << mode << ")";
  // pt2onnx's malloc settings (common/startup_environment.cpp), for this process. A sanitizer's allocator,
  // which stands in for glibc's malloc, takes none and places buffers itself.
  if (mallopt(M_MMAP_THRESHOLD, 256 << 20) != 1 || mallopt(M_TRIM_THRESHOLD, 512 << 20) != 1) {
    GTEST_SKIP() << "malloc here is not glibc's (a sanitizer's allocator)";
  }
  (void)malloc_trim(0);  // earlier tests' freed blocks: no pages left in them
  // The block the buffer below will reuse: malloc is asked the same as then.
  constexpr std::size_t kSize = std::size_t{16} << 20;
  constexpr std::size_t kOld = kSize;
  void* old = std::aligned_alloc(std::size_t{2} << 20, kOld);
  ASSERT_NE(old, nullptr);
  // On 4 KiB pages, as a large model's load leaves them (pt2onnx gives malloc
  // no huge pages then; this test program's malloc may have them).
  const auto old_begin = (address(old) + 4095) / 4096 * 4096;
  const auto old_end = (address(old) + kOld) / 4096 * 4096;
  ASSERT_EQ(::madvise(reinterpret_cast<void*>(old_begin), old_end - old_begin, MADV_NOHUGEPAGE), 0);
  // Every page touched (volatile: stores before a free are otherwise dropped).
  auto* old_bytes = static_cast<volatile unsigned char*>(old);
  for (std::size_t i = 0; i < kOld; i += 4096) old_bytes[i] = 1;
  // A block after it keeps the freed one inside the heap, not at its top.
  auto* fence = static_cast<volatile unsigned char*>(std::malloc(4096));
  ASSERT_NE(fence, nullptr);
  fence[0] = 1;
  ASSERT_EQ(huge_page_bytes(old_begin, old_end), 0u);
  std::free(old);

  const auto buffer = allocate_large(kSize);
  std::memset(buffer.get(), 2, kSize);
  const auto begin = address(buffer.get());
  ASSERT_TRUE(begin >= old_begin && begin + kSize <= old_end) << "malloc put the buffer elsewhere";
  EXPECT_GE(huge_page_bytes(begin, begin + kSize), kSize / 2)
      << "the buffer's pages are 4 KiB ones (mode " << mode << ")";
  std::free(const_cast<unsigned char*>(fence));
}

}  // namespace
}  // namespace pt2onnx::runtime
