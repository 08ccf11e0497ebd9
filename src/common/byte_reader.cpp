#include "common/byte_reader.h"

#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx {
namespace {

template <typename T>
T load_le(const std::byte* p) {
  static_assert(std::endian::native == std::endian::little, "pt2onnx assumes a little-endian host");
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

void ByteReader::need(std::size_t n) const {
  if (n > remaining()) {
    throw_error(ErrorKind::BadInput,
                fmt::format("truncated: {} bytes needed at offset {}, only {} left", n, offset(), remaining()));
  }
}

std::uint8_t ByteReader::u8() {
  need(1);
  return static_cast<std::uint8_t>(data_[pos_++]);
}

std::uint16_t ByteReader::u16_le() {
  need(2);
  auto v = load_le<std::uint16_t>(data_.data() + pos_);
  pos_ += 2;
  return v;
}

std::uint32_t ByteReader::u32_le() {
  need(4);
  auto v = load_le<std::uint32_t>(data_.data() + pos_);
  pos_ += 4;
  return v;
}

std::uint64_t ByteReader::u64_le() {
  need(8);
  auto v = load_le<std::uint64_t>(data_.data() + pos_);
  pos_ += 8;
  return v;
}

std::int32_t ByteReader::i32_le() { return static_cast<std::int32_t>(u32_le()); }
std::int64_t ByteReader::i64_le() { return static_cast<std::int64_t>(u64_le()); }

double ByteReader::f64_be() {
  need(8);
  std::uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<std::uint8_t>(data_[pos_ + static_cast<std::size_t>(i)]);
  pos_ += 8;
  return std::bit_cast<double>(bits);
}

std::span<const std::byte> ByteReader::bytes(std::size_t n) {
  need(n);
  auto out = data_.subspan(pos_, n);
  pos_ += n;
  return out;
}

std::string_view ByteReader::chars(std::size_t n) {
  auto b = bytes(n);
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::string_view ByteReader::line() {
  need(1);
  const auto* begin = reinterpret_cast<const char*>(data_.data()) + pos_;
  const auto* nl = static_cast<const char*>(std::memchr(begin, '\n', remaining()));
  if (nl == nullptr) {
    throw_error(ErrorKind::BadInput, fmt::format("truncated: no end of line after offset {}", offset()));
  }
  const auto n = static_cast<std::size_t>(nl - begin);
  pos_ += n + 1;
  return {begin, n};
}

}  // namespace pt2onnx
