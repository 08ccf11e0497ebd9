#include "vision/dicom_parser.h"

#include <gtest/gtest.h>

#include "pt2onnx/error.h"
#include "vision/dicom_decoder.h"
#include "vision/test_images.h"

namespace pt2onnx::vision {
namespace {

using testing::Bytes;

// Builds a Part 10 file byte by byte: the meta group (explicit VR), then a
// dataset in the chosen encoding.
class Builder {
 public:
  explicit Builder(std::string syntax = "1.2.840.10008.1.2.1") : explicit_(syntax != "1.2.840.10008.1.2") {
    out_.assign(128, 0);
    out_.insert(out_.end(), {'D', 'I', 'C', 'M'});
    if (syntax.size() % 2 != 0) syntax += '\0';
    explicit_element(0x0002, 0x0010, "UI", Bytes(syntax.begin(), syntax.end()));
  }
  Builder& element(std::uint16_t g, std::uint16_t e, const char* vr, const Bytes& value) {
    if (explicit_) {
      explicit_element(g, e, vr, value);
    } else {
      tag(g, e);
      u32(static_cast<std::uint32_t>(value.size()));
      append(value);
    }
    return *this;
  }
  Builder& text(std::uint16_t g, std::uint16_t e, const char* vr, std::string v) {
    if (v.size() % 2 != 0) v += ' ';
    return element(g, e, vr, Bytes(v.begin(), v.end()));
  }
  Builder& us(std::uint16_t g, std::uint16_t e, std::uint16_t v) {
    return element(g, e, "US", Bytes{static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8)});
  }
  // Undefined-length header of a sequence (or UN) element.
  Builder& open_sequence(std::uint16_t g, std::uint16_t e, const char* vr = "SQ") {
    tag(g, e);
    if (explicit_) {
      out_.push_back(static_cast<std::uint8_t>(vr[0]));
      out_.push_back(static_cast<std::uint8_t>(vr[1]));
      u16(0);
    }
    u32(0xffffffffu);
    return *this;
  }
  Builder& item(std::uint32_t length) {
    tag(0xfffe, 0xe000);
    u32(length);
    return *this;
  }
  Builder& end_item() {
    tag(0xfffe, 0xe00d);
    u32(0);
    return *this;
  }
  Builder& end_sequence() {
    tag(0xfffe, 0xe0dd);
    u32(0);
    return *this;
  }
  Builder& raw(const Bytes& bytes) {
    append(bytes);
    return *this;
  }
  Builder& encapsulated(const std::vector<std::uint32_t>& offsets, const std::vector<Bytes>& fragments) {
    open_sequence(0x7fe0, 0x0010, "OB");
    item(static_cast<std::uint32_t>(4 * offsets.size()));
    for (auto o : offsets) u32(o);
    for (const auto& f : fragments) {
      item(static_cast<std::uint32_t>(f.size()));
      append(f);
    }
    return end_sequence();
  }
  [[nodiscard]] Bytes bytes() const { return out_; }

 private:
  void explicit_element(std::uint16_t g, std::uint16_t e, const char* vr, const Bytes& value) {
    tag(g, e);
    out_.push_back(static_cast<std::uint8_t>(vr[0]));
    out_.push_back(static_cast<std::uint8_t>(vr[1]));
    const std::string v(vr);
    if (v == "OB" || v == "OW" || v == "SQ" || v == "UN" || v == "UT") {
      u16(0);
      u32(static_cast<std::uint32_t>(value.size()));
    } else {
      u16(static_cast<std::uint16_t>(value.size()));
    }
    append(value);
  }
  void tag(std::uint16_t g, std::uint16_t e) {
    u16(g);
    u16(e);
  }
  void u16(std::uint16_t v) {
    out_.push_back(static_cast<std::uint8_t>(v));
    out_.push_back(static_cast<std::uint8_t>(v >> 8));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v));
    u16(static_cast<std::uint16_t>(v >> 16));
  }
  void append(const Bytes& b) { out_.insert(out_.end(), b.begin(), b.end()); }

  bool explicit_;
  Bytes out_;
};

void expect_bad(const Bytes& data, const std::string& needle, ErrorKind kind = ErrorKind::BadInput) {
  try {
    parse_dicom(data);
    FAIL() << "expected an error containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(DicomParser, SkipsNestedSequencesAndKeepsTopLevelValues) {
  Builder b;
  b.text(0x0008, 0x0060, "CS", "MG");
  // A defined-length item inside an undefined-length sequence, then an
  // undefined-length item holding another sequence.
  b.open_sequence(0x0008, 0x1140).item(10).raw(Bytes(10, 0x55));
  b.item(0xffffffffu).open_sequence(0x0040, 0xa730).item(0xffffffffu).text(0x0040, 0xa040, "CS", "TEXT");
  b.end_item().end_sequence().end_item().end_sequence();
  // UN with undefined length: its content is implicit VR.
  b.open_sequence(0x0009, 0x1010, "UN").item(0xffffffffu).raw({0x09, 0, 0x11, 0x10, 2, 0, 0, 0, 'a', 'b'});
  b.end_item().end_sequence();
  b.us(0x0028, 0x0010, 7).element(0x7fe0, 0x0010, "OW", Bytes(4, 1));
  const auto data = b.bytes();
  const DicomFile f = parse_dicom(data);
  EXPECT_EQ(f.transfer_syntax, "1.2.840.10008.1.2.1");
  EXPECT_EQ(f.text(dicom_tag(0x0008, 0x0060)), "MG");
  EXPECT_EQ(f.us(dicom_tag(0x0028, 0x0010), "Rows"), 7);
  EXPECT_EQ(f.elements.count(dicom_tag(0x0040, 0xa040)), 0u);  // nested, not top level
  EXPECT_TRUE(f.has_pixel_data);
  EXPECT_FALSE(f.encapsulated);
  EXPECT_EQ(f.native_pixels.size(), 4u);
}

TEST(DicomParser, ImplicitVr) {
  Builder b("1.2.840.10008.1.2");
  b.us(0x0028, 0x0011, 300).element(0x7fe0, 0x0010, "", Bytes(6, 2));
  const auto data = b.bytes();
  const DicomFile f = parse_dicom(data);
  EXPECT_EQ(f.us(dicom_tag(0x0028, 0x0011), "Columns"), 300);
  EXPECT_EQ(f.native_pixels.size(), 6u);
}

TEST(DicomParser, EncapsulatedFragmentsAndOffsetTable) {
  Builder b("1.2.840.10008.1.2.4.90");
  b.us(0x0028, 0x0010, 1).encapsulated({0, 14}, {Bytes(6, 1), Bytes(4, 2), Bytes(2, 3)});
  const auto data = b.bytes();
  const DicomFile f = parse_dicom(data);
  EXPECT_TRUE(f.encapsulated);
  EXPECT_EQ(f.offset_table, (std::vector<std::uint32_t>{0, 14}));
  ASSERT_EQ(f.fragments.size(), 3u);
  EXPECT_EQ(f.fragments[1].size(), 4u);
  EXPECT_EQ(f.fragments[2][0], 3);
}

TEST(DicomParser, MalformedFilesAreErrors) {
  expect_bad(Bytes(200, 0), "not a DICOM Part 10 file");
  {
    Builder b;
    b.us(0x0028, 0x0010, 1).element(0x7fe0, 0x0010, "OW", Bytes(100, 0));
    Bytes data = b.bytes();
    data.resize(data.size() - 10);
    expect_bad(data, "(7FE0,0010) at offset");
  }
  {
    Builder b;
    b.raw({0x28, 0, 0x10, 0, 'u', 's', 2, 0, 1, 0});  // lower-case VR
    expect_bad(b.bytes(), "no valid VR");
  }
  {
    Builder b;
    b.us(0x0028, 0x0011, 1).us(0x0028, 0x0010, 1);
    expect_bad(b.bytes(), "out of order");
  }
  {
    Builder b;
    b.item(4).raw(Bytes(4, 0));
    expect_bad(b.bytes(), "outside a sequence");
  }
  {
    Builder b;
    for (int i = 0; i < 40; ++i) b.open_sequence(0x0008, 0x1140).item(0xffffffffu);
    expect_bad(b.bytes(), "nest deeper");
  }
  {
    Builder b;
    b.open_sequence(0x0008, 0x1140).item(0xffffffffu).text(0x0008, 0x0060, "CS", "MG");
    expect_bad(b.bytes(), "truncated");
  }
  expect_bad(Builder("1.2.840.10008.1.2.2").bytes(), "big-endian", ErrorKind::Unsupported);
}

TEST(DicomParser, PrintableEscapesBytes) {
  EXPECT_EQ(printable("ok"), "ok");
  EXPECT_EQ(printable(std::string("a\x01\xff", 3)), "a\\x01\\xff");
  EXPECT_EQ(printable(std::string(100, 'x')).size(), 67u);
}

TEST(DicomDecoder, EncapsulatedJpegUsesTheFirstFrame) {
  // Two 8-bit grayscale frames, one fragment each: the first one is decoded.
  const Bytes first = testing::encode_jpeg(8, 8, 1, Bytes(64, 10), 100);
  const Bytes second = testing::encode_jpeg(8, 8, 1, Bytes(64, 200), 100);
  Builder b("1.2.840.10008.1.2.4.50");
  b.us(0x0028, 0x0002, 1).text(0x0028, 0x0004, "CS", "MONOCHROME2").text(0x0028, 0x0008, "IS", "2");
  b.us(0x0028, 0x0010, 8).us(0x0028, 0x0011, 8).us(0x0028, 0x0100, 8).us(0x0028, 0x0101, 8);
  b.us(0x0028, 0x0102, 7).us(0x0028, 0x0103, 0).text(0x0028, 0x1050, "DS", "100").text(0x0028, 0x1051, "DS", "201");
  b.encapsulated({}, {first, second});
  const Image img = decode_dicom(b.bytes(), {});
  // Window 100/201: lo = -0.5, hi = 199.5; 10 -> (10.5 / 200) * 255 = 13.4 -> 13.
  EXPECT_EQ(img.pixels, Bytes(64, 13));
}

}  // namespace
}  // namespace pt2onnx::vision
