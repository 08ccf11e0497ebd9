#include "infer/reorder_buffer.h"

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace pt2onnx::infer {
namespace {

TEST(ReorderBuffer, DeliversInOrderFromManyWorkers) {
  constexpr int kItems = 2000;
  constexpr int kWindow = 8;
  ReorderBuffer<int> buffer(kWindow);
  std::atomic<int> next{0};
  std::atomic<int> finished{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      std::mt19937 rng(static_cast<unsigned>(w));
      for (int i = next++; i < kItems; i = next++) {
        if (rng() % 7 == 0) std::this_thread::yield();
        buffer.put(i, i * 10);
      }
      if (++finished == 4) buffer.finish(kItems);
    });
  }
  for (int i = 0; i < kItems; ++i) {
    const auto v = buffer.take();
    ASSERT_TRUE(v);
    ASSERT_EQ(*v, i * 10);
  }
  EXPECT_FALSE(buffer.take());
  for (auto& t : workers) t.join();
}

TEST(ReorderBuffer, AbortReleasesBlockedProducers) {
  ReorderBuffer<int> buffer(1);
  buffer.put(0, 0);
  std::thread producer([&] { EXPECT_FALSE(buffer.put(1, 1)); });  // blocks: window full
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  buffer.abort();
  producer.join();
  EXPECT_FALSE(buffer.take());
}

TEST(ReorderBuffer, EmptyStreamEnds) {
  ReorderBuffer<int> buffer(4);
  buffer.finish(0);
  EXPECT_FALSE(buffer.take());
}

}  // namespace
}  // namespace pt2onnx::infer
