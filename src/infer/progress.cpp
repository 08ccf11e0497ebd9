#include "infer/progress.h"

#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>

namespace pt2onnx::infer {

namespace {
constexpr auto kRedrawInterval = std::chrono::milliseconds(200);
constexpr int kBarWidth = 24;
}  // namespace

ProgressBar::ProgressBar(std::FILE* out, bool enabled)
    : out_(out), enabled_(enabled), start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<std::int64_t>(std::llround(seconds));
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

void ProgressBar::update(std::int64_t done, std::int64_t failed) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  draw(done, failed);
}

void ProgressBar::draw(std::int64_t done, std::int64_t failed) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const std::int64_t total = total_.load(std::memory_order_relaxed);
  std::string line;
  if (total >= 0) {
    const double fraction = total > 0 ? std::min(1.0, static_cast<double>(done) / static_cast<double>(total)) : 1.0;
    const int filled = static_cast<int>(fraction * kBarWidth);
    const double left = rate > 0 ? static_cast<double>(std::max<std::int64_t>(0, total - done)) / rate : -1.0;
    line = fmt::format(
        "[{}{}] {}/{} images  {:.1f} images/s  {} left", std::string(static_cast<std::size_t>(filled), '#'),
        std::string(static_cast<std::size_t>(kBarWidth - filled), '.'), done, total, rate, format_duration(left));
  } else {
    line = fmt::format("{} images  {:.1f} images/s", done, rate);
  }
  if (failed > 0) line += fmt::format("  ({} failed)", failed);
  // \r returns to the line start, ESC[K clears what a longer line left.
  fmt::print(out_, "\r{}\x1b[K", line);
  std::fflush(out_);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (!enabled_ || !drawn_) return;
  fmt::print(out_, "\r\x1b[K");
  std::fflush(out_);
}

}  // namespace pt2onnx::infer
