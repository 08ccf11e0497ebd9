// Helpers for the checkpoint tests: temporary files, hex literals, and a
// builder for hand-written pickles (so every opcode can be tested without Python).
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "pt2onnx/error.h"
#include "support/temp_dir.h"

namespace pt2onnx::checkpoint::testing {

inline std::vector<std::byte> from_hex(std::string_view hex) {
  std::vector<std::byte> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::byte>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

inline std::vector<std::byte> to_bytes(std::string_view s) {
  std::vector<std::byte> out(s.size());
  std::memcpy(out.data(), s.data(), s.size());
  return out;
}

inline std::span<const std::byte> as_span(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

using pt2onnx::testing::TempDir;

inline std::vector<std::byte> read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return to_bytes(s);
}

// Raw pickle bytes, op by op.
class Pickle {
 public:
  Pickle& op(std::uint8_t code) {
    b_ += static_cast<char>(code);
    return *this;
  }
  Pickle& raw(std::string_view s) {
    b_ += s;
    return *this;
  }
  Pickle& u8(std::uint8_t v) { return op(v); }
  Pickle& u16(std::uint16_t v) { return u8(static_cast<std::uint8_t>(v & 0xff)).u8(static_cast<std::uint8_t>(v >> 8)); }
  Pickle& u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
    return *this;
  }
  Pickle& u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
    return *this;
  }
  Pickle& proto(int v) { return op(0x80).u8(static_cast<std::uint8_t>(v)); }
  Pickle& mark() { return op('('); }
  Pickle& stop() { return op('.'); }
  Pickle& none() { return op('N'); }
  Pickle& int1(std::uint8_t v) { return op('K').u8(v); }
  Pickle& int4(std::int32_t v) { return op('J').u32(static_cast<std::uint32_t>(v)); }
  Pickle& str(std::string_view s) { return op('X').u32(static_cast<std::uint32_t>(s.size())).raw(s); }
  Pickle& global(std::string_view module, std::string_view name) {
    return op('c').raw(module).raw("\n").raw(name).raw("\n");
  }
  Pickle& tuple() { return op('t'); }
  Pickle& empty_tuple() { return op(')'); }
  Pickle& empty_dict() { return op('}'); }
  Pickle& empty_list() { return op(']'); }
  Pickle& reduce() { return op('R'); }
  Pickle& build() { return op('b'); }
  Pickle& setitem() { return op('s'); }
  Pickle& setitems() { return op('u'); }
  Pickle& append() { return op('a'); }
  Pickle& binpersid() { return op('Q'); }
  Pickle& binput(std::uint8_t i) { return op('q').u8(i); }
  Pickle& binget(std::uint8_t i) { return op('h').u8(i); }
  Pickle& newobj() { return op(0x81); }
  Pickle& newfalse() { return op(0x89); }
  Pickle& newtrue() { return op(0x88); }
  Pickle& int_tuple(const std::vector<std::int64_t>& v) {
    mark();
    for (auto x : v) int4(static_cast<std::int32_t>(x));
    return tuple();
  }

  [[nodiscard]] const std::string& bytes() const { return b_; }
  [[nodiscard]] std::span<const std::byte> span() const { return as_span(b_); }

 private:
  std::string b_;
};

// Expects fn to throw pt2onnx::Error of `kind` whose message contains every needle.
template <typename Fn>
void expect_error(Fn&& fn, ErrorKind kind, std::initializer_list<std::string_view> needles) {
  try {
    fn();
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    for (auto n : needles)
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << "'" << n << "' not in: " << e.what();
  }
}

}  // namespace pt2onnx::checkpoint::testing
