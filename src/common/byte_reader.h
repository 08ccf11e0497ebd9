// A cursor over bytes already in memory. Every read is bounds-checked and a
// short read throws Error(BadInput) naming the offset, so parsers of hostile
// files never index past the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace pt2onnx {

class ByteReader {
 public:
  // base_offset is added to offsets in error messages (the span's position in its file or record).
  explicit ByteReader(std::span<const std::byte> data, std::size_t base_offset = 0)
      : data_(data), base_offset_(base_offset) {}

  [[nodiscard]] std::size_t position() const { return pos_; }               // within the span
  [[nodiscard]] std::size_t offset() const { return base_offset_ + pos_; }  // for messages
  [[nodiscard]] std::size_t remaining() const { return data_.size() - pos_; }
  [[nodiscard]] bool at_end() const { return pos_ == data_.size(); }

  std::uint8_t u8();
  std::uint16_t u16_le();
  std::uint32_t u32_le();
  std::uint64_t u64_le();
  std::int32_t i32_le();
  std::int64_t i64_le();
  double f64_be();  // pickle's BINFLOAT is big-endian
  std::span<const std::byte> bytes(std::size_t n);
  std::string_view chars(std::size_t n);
  // Up to the next '\n' (not included); the newline is consumed.
  std::string_view line();
  void skip(std::size_t n) { (void)bytes(n); }

 private:
  void need(std::size_t n) const;

  std::span<const std::byte> data_;
  std::size_t base_offset_ = 0;
  std::size_t pos_ = 0;
};

}  // namespace pt2onnx
