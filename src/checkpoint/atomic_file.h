// Writes a file so that readers see either the old file or the complete new
// one: the bytes go to a temporary file in the same directory, which commit()
// flushes to disk and renames over the target. Without commit(), the
// destructor removes the temporary.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>

namespace pt2onnx::checkpoint {

class AtomicFile {
 public:
  // Throws Error(Io) naming the directory when the temporary cannot be created.
  explicit AtomicFile(std::filesystem::path target);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::span<const std::byte> bytes);
  [[nodiscard]] std::uint64_t position() const { return position_; }
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  int fd_ = -1;
  std::uint64_t position_ = 0;
};

}  // namespace pt2onnx::checkpoint
