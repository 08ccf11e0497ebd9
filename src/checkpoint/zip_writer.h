// A minimal zip writer for torch.save-style archives: stored (uncompressed)
// entries whose data starts on a 64-byte boundary, as PyTorch's own writer
// pads them (so readers may map tensors in place). No Zip64: archives stop at
// 4 GiB, which is far above what pt2onnx writes (demo checkpoints).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/atomic_file.h"

namespace pt2onnx::checkpoint {

std::uint32_t crc32(std::span<const std::byte> data, std::uint32_t crc = 0);

class ZipWriter {
 public:
  static constexpr std::uint64_t kAlignment = 64;

  explicit ZipWriter(AtomicFile& out) : out_(out) {}

  // Throws Error(Unsupported) if the archive would need Zip64.
  void add_stored(std::string_view name, std::span<const std::byte> data);
  void finish();  // writes the central directory

 private:
  struct Record {
    std::string name;
    std::uint32_t crc = 0;
    std::uint32_t size = 0;
    std::uint32_t offset = 0;
  };
  AtomicFile& out_;
  std::vector<Record> records_;
};

}  // namespace pt2onnx::checkpoint
