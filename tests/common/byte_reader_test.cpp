#include "common/byte_reader.h"

#include <gtest/gtest.h>

#include "common/checked_math.h"
#include "pt2onnx/error.h"

namespace pt2onnx {
namespace {

TEST(ByteReader, ReadsLittleEndianAndLines) {
  const unsigned char raw[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 'a', 'b', '\n', 0x3f, 0xf0, 0, 0, 0, 0, 0, 0};
  ByteReader r(std::as_bytes(std::span(raw)), 100);
  EXPECT_EQ(r.u8(), 1);
  EXPECT_EQ(r.u16_le(), 0x0302);
  EXPECT_EQ(r.u32_le(), 0x07060504u);
  EXPECT_EQ(r.line(), "ab");
  EXPECT_EQ(r.f64_be(), 1.0);
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(r.offset(), 118u);
}

TEST(ByteReader, ShortReadsNameTheOffset) {
  const unsigned char raw[] = {1, 2, 3};
  ByteReader r(std::as_bytes(std::span(raw)), 10);
  r.skip(1);
  try {
    r.u32_le();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
    EXPECT_STREQ(e.what(), "truncated: 4 bytes needed at offset 11, only 2 left");
  }
  EXPECT_THROW(r.line(), Error);  // no newline
  EXPECT_THROW(r.bytes(~std::size_t{0}), Error);
}

TEST(CheckedMath, DetectsOverflow) {
  EXPECT_EQ(checked_mul<std::int64_t>(1LL << 31, 1LL << 31), 1LL << 62);
  EXPECT_FALSE(checked_mul<std::int64_t>(1LL << 32, 1LL << 31));
  EXPECT_FALSE(checked_add<std::uint64_t>(~0ULL, 1));
  EXPECT_EQ(checked_add<std::int64_t>(-1, 1), 0);
}

}  // namespace
}  // namespace pt2onnx
