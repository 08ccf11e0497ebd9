// A read-only file with positioned, bounds-checked reads (RAII over a file
// descriptor). Every reader of checkpoint containers goes through it so that
// short files and read errors turn into errors with the offset named.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace pt2onnx::checkpoint {

class InputFile {
 public:
  // Throws Error(Io) when the path cannot be opened or is not a regular file.
  explicit InputFile(const std::filesystem::path& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  [[nodiscard]] std::uint64_t size() const { return size_; }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  // Fills out from offset; Error(BadInput) if the file ends first, Error(Io) on a read error.
  void read_at(std::uint64_t offset, std::span<std::byte> out) const;
  // Up to n bytes from the start (fewer if the file is shorter).
  [[nodiscard]] std::vector<std::byte> read_prefix(std::size_t n) const;
  [[nodiscard]] std::vector<std::byte> read_all() const;

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

}  // namespace pt2onnx::checkpoint
