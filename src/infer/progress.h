// The progress line `pt2onnx infer` draws on stderr when stderr is a
// terminal: images done (of how many, once counted), images/s, time left.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace pt2onnx::infer {

class ProgressBar {
 public:
  // Draws nothing when `enabled` is false.
  ProgressBar(std::FILE* out, bool enabled);

  // Total once known (the count runs beside the work); -1 while unknown.
  void set_total(std::int64_t total) { total_.store(total, std::memory_order_relaxed); }

  // Redraws at most five times a second.
  void update(std::int64_t done, std::int64_t failed);
  // Erases the line, so the summary that follows stands alone.
  void finish();

  [[nodiscard]] bool enabled() const { return enabled_; }

 private:
  void draw(std::int64_t done, std::int64_t failed);

  std::FILE* out_;
  bool enabled_;
  std::atomic<std::int64_t> total_{-1};
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  bool drawn_ = false;
};

// "1:02:03" or "4:05".
std::string format_duration(double seconds);

}  // namespace pt2onnx::infer
