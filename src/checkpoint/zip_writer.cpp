#include "checkpoint/zip_writer.h"

#include <array>
#include <limits>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx::checkpoint {
namespace {

constexpr std::uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr std::uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr std::uint32_t kEndOfCentralSignature = 0x06054b50;
constexpr std::uint16_t kVersion = 20;  // 2.0: stored entries, directories
constexpr std::uint16_t kFlagUtf8Names = 0x0800;
constexpr std::uint16_t kMethodStored = 0;
constexpr std::uint16_t kDosDate1980 = (0 << 9) | (1 << 5) | 1;  // 1980-01-01: reproducible output
constexpr std::uint16_t kPaddingFieldId = 0x4246;                // "FB", PyTorch's padding extra field
constexpr std::size_t kLocalHeaderSize = 30;
constexpr std::size_t kExtraFieldHeaderSize = 4;
constexpr std::uint64_t kMaxOffset = std::numeric_limits<std::uint32_t>::max();

constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1U) != 0 ? 0xedb88320U ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr auto kCrcTable = make_crc_table();

class Bytes {
 public:
  void u16(std::uint16_t v) {
    for (int i = 0; i < 2; ++i) b_.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xffU));
  }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b_.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xffU));
  }
  void text(std::string_view s) {
    for (char c : s) b_.push_back(static_cast<std::byte>(c));
  }
  void fill(std::size_t n, char c) { b_.insert(b_.end(), n, static_cast<std::byte>(c)); }
  [[nodiscard]] const std::vector<std::byte>& data() const { return b_; }

 private:
  std::vector<std::byte> b_;
};

std::uint16_t u16_checked(std::size_t v, std::string_view what) {
  if (v > std::numeric_limits<std::uint16_t>::max()) {
    throw_error(ErrorKind::Unsupported, fmt::format("zip {} of {} does not fit the format", what, v));
  }
  return static_cast<std::uint16_t>(v);
}

}  // namespace

std::uint32_t crc32(std::span<const std::byte> data, std::uint32_t crc) {
  crc = ~crc;
  for (auto b : data) crc = kCrcTable[(crc ^ static_cast<std::uint8_t>(b)) & 0xffU] ^ (crc >> 8);
  return ~crc;
}

void ZipWriter::add_stored(std::string_view name, std::span<const std::byte> data) {
  const std::uint64_t offset = out_.position();
  const std::uint64_t unpadded = offset + kLocalHeaderSize + name.size() + kExtraFieldHeaderSize;
  const std::size_t pad = static_cast<std::size_t>((kAlignment - unpadded % kAlignment) % kAlignment);
  if (unpadded + pad + data.size() > kMaxOffset) {
    throw_error(ErrorKind::Unsupported, "the archive would pass 4 GiB, which needs Zip64 (not written by pt2onnx)");
  }
  Record r{std::string(name), crc32(data), static_cast<std::uint32_t>(data.size()), static_cast<std::uint32_t>(offset)};
  Bytes h;
  h.u32(kLocalHeaderSignature);
  h.u16(kVersion);
  h.u16(kFlagUtf8Names);
  h.u16(kMethodStored);
  h.u16(0);  // time
  h.u16(kDosDate1980);
  h.u32(r.crc);
  h.u32(r.size);  // compressed
  h.u32(r.size);
  h.u16(u16_checked(name.size(), "name length"));
  h.u16(static_cast<std::uint16_t>(kExtraFieldHeaderSize + pad));
  h.text(name);
  h.u16(kPaddingFieldId);
  h.u16(static_cast<std::uint16_t>(pad));
  h.fill(pad, 'Z');
  out_.write(h.data());
  out_.write(data);
  records_.push_back(std::move(r));
}

void ZipWriter::finish() {
  const std::uint64_t start = out_.position();
  Bytes cd;
  for (const auto& r : records_) {
    cd.u32(kCentralHeaderSignature);
    cd.u16(kVersion);  // made by
    cd.u16(kVersion);  // needed
    cd.u16(kFlagUtf8Names);
    cd.u16(kMethodStored);
    cd.u16(0);
    cd.u16(kDosDate1980);
    cd.u32(r.crc);
    cd.u32(r.size);
    cd.u32(r.size);
    cd.u16(static_cast<std::uint16_t>(r.name.size()));
    cd.u16(0);  // extra
    cd.u16(0);  // comment
    cd.u16(0);  // disk
    cd.u16(0);  // internal attributes
    cd.u32(0);  // external attributes
    cd.u32(r.offset);
    cd.text(r.name);
  }
  const std::uint64_t size = cd.data().size();
  if (start + size > kMaxOffset) throw_error(ErrorKind::Unsupported, "the archive would pass 4 GiB");
  cd.u32(kEndOfCentralSignature);
  cd.u16(0);
  cd.u16(0);
  cd.u16(u16_checked(records_.size(), "entry count"));
  cd.u16(u16_checked(records_.size(), "entry count"));
  cd.u32(static_cast<std::uint32_t>(size));
  cd.u32(static_cast<std::uint32_t>(start));
  cd.u16(0);  // comment length
  out_.write(cd.data());
}

}  // namespace pt2onnx::checkpoint
