// allocate_large and BufferSlabs: the alignment each promises, and slab
// allocations that never overlap, including ones larger than a slab.
#include "runtime/large_buffers.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
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

}  // namespace
}  // namespace pt2onnx::runtime
