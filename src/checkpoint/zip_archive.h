// Read access to a zip archive through libzip (RAII), for torch.save files.
// Every entry's declared sizes are checked when the archive is opened (stored
// entries against the file, deflated ones against a compression-ratio cap),
// and reads check the declared size against what really comes out, so a zip
// bomb or a lying header ends in an error, never a huge allocation.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct zip;

namespace pt2onnx::checkpoint {

struct ZipLimits {
  std::uint64_t max_entry_bytes = std::uint64_t{1} << 36;     // 64 GiB
  std::uint64_t max_inflated_bytes = std::uint64_t{1} << 32;  // 4 GiB in total from deflated entries
  std::uint64_t max_compression_ratio = 100;                  // deflated entries; torch itself stores
};

enum class ZipMethod { Stored, Deflated };

struct ZipEntry {
  std::string name;
  std::uint64_t size = 0;
  std::uint64_t compressed_size = 0;
  ZipMethod method = ZipMethod::Stored;
  std::uint64_t index = 0;
};

// What a libzip error code (and the system error behind it, or 0) means for
// the archive, in pt2onnx's words: never libzip's own text, which names its
// internals ("No such file" for a corrupt local header).
std::string describe_zip_error(int libzip_code, int system_error);

class ZipArchive {
 public:
  // Throws Error(BadInput) for a file that is not a sound zip archive or has
  // an entry past the limits, Error(Unsupported) for encryption or another
  // compression method, Error(Io) when it cannot be read.
  ZipArchive(const std::filesystem::path& path, std::uint64_t file_size, const ZipLimits& limits);

  [[nodiscard]] const std::vector<ZipEntry>& entries() const { return entries_; }
  [[nodiscard]] const ZipEntry* find(std::string_view name) const;

  [[nodiscard]] std::vector<std::byte> read(const ZipEntry& entry);
  // out.size() must equal entry.size.
  void read_into(const ZipEntry& entry, std::span<std::byte> out);

 private:
  void check_inflation_budget(const ZipEntry& entry) const;

  // Read-only: discarding never writes anything back. A unique_ptr member so
  // that a constructor that throws half way still closes the archive.
  struct Discard {
    void operator()(zip* z) const;
  };
  std::unique_ptr<zip, Discard> zip_;
  std::vector<ZipEntry> entries_;
  ZipLimits limits_;
  std::uint64_t inflated_ = 0;
};

}  // namespace pt2onnx::checkpoint
