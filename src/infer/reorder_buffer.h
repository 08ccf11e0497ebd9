// Hands items produced out of order by several workers to one consumer in
// sequence order, holding at most `window` items ahead of the consumer: a
// worker holding an item too far ahead waits, so memory stays bounded however
// slow the item the consumer needs next is.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>

namespace pt2onnx::infer {

template <typename T>
class ReorderBuffer {
 public:
  explicit ReorderBuffer(std::int64_t window) : window_(window) {}

  // Blocks while seq is window or more ahead of the next item to take.
  // Returns false when aborted (the item is dropped).
  bool put(std::int64_t seq, T item) {
    std::unique_lock lock(mutex_);
    space_.wait(lock, [&] { return aborted_ || seq < next_ + window_; });
    if (aborted_) return false;
    items_.emplace(seq, std::move(item));
    if (seq == next_) ready_.notify_one();
    return true;
  }

  // No item with seq >= total will ever be put.
  void finish(std::int64_t total) {
    std::lock_guard lock(mutex_);
    total_ = total;
    ready_.notify_all();
  }

  // Wakes every waiter; put and take return at once from now on.
  void abort() {
    std::lock_guard lock(mutex_);
    aborted_ = true;
    space_.notify_all();
    ready_.notify_all();
  }

  // The item with the next sequence number; nullopt when all were taken or aborted.
  std::optional<T> take() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return aborted_ || items_.count(next_) != 0 || (total_ && next_ >= *total_); });
    if (aborted_ || items_.count(next_) == 0) return std::nullopt;
    auto node = items_.extract(next_);
    ++next_;
    space_.notify_all();
    return std::move(node.mapped());
  }

 private:
  std::int64_t window_;
  std::mutex mutex_;
  std::condition_variable space_;
  std::condition_variable ready_;
  std::map<std::int64_t, T> items_;
  std::int64_t next_ = 0;
  std::optional<std::int64_t> total_;
  bool aborted_ = false;
};

}  // namespace pt2onnx::infer
