#include "vision/dicom_parser.h"

#include <cstring>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx::vision {
namespace {

constexpr std::size_t kPreamble = 128;
constexpr std::uint32_t kUndefinedLength = 0xffffffffu;
constexpr std::uint32_t kPixelData = dicom_tag(0x7fe0, 0x0010);
constexpr std::uint32_t kTransferSyntaxUid = dicom_tag(0x0002, 0x0010);
constexpr std::uint32_t kItem = dicom_tag(0xfffe, 0xe000);
constexpr std::uint32_t kItemDelimitation = dicom_tag(0xfffe, 0xe00d);
constexpr std::uint32_t kSequenceDelimitation = dicom_tag(0xfffe, 0xe0dd);
// Sequences nest a few levels in real files; a hostile one could nest until
// the stack runs out.
constexpr int kMaxDepth = 32;

std::string tag_name(std::uint32_t tag) { return fmt::format("({:04X},{:04X})", tag >> 16, tag & 0xffff); }

// VRs whose explicit-VR header has 2 reserved bytes and a 32-bit length.
bool has_long_length(char a, char b) {
  static constexpr const char* kLong[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
  for (const char* vr : kLong) {
    if (vr[0] == a && vr[1] == b) return true;
  }
  return false;
}

struct Header {
  std::uint32_t tag = 0;
  char vr[2] = {0, 0};  // 0 in implicit VR
  std::uint32_t length = 0;
  std::size_t value_offset = 0;
};

class Cursor {
 public:
  Cursor(std::span<const std::uint8_t> data, std::size_t start) : data_(data), pos_(start) {}

  [[nodiscard]] std::size_t offset() const { return pos_; }
  [[nodiscard]] std::size_t remaining() const { return data_.size() - pos_; }
  [[nodiscard]] bool at_end() const { return pos_ >= data_.size(); }

  void need(std::size_t n, const char* what) const {
    if (remaining() < n) {
      throw_error(ErrorKind::BadInput, fmt::format("DICOM file is truncated: {} at offset {} needs {} bytes, {} remain",
                                                   what, pos_, n, remaining()));
    }
  }
  std::uint16_t u16() {
    need(2, "a 16-bit field");
    const auto v = static_cast<std::uint16_t>(data_[pos_] | (data_[pos_ + 1] << 8));
    pos_ += 2;
    return v;
  }
  std::uint32_t u32() {
    need(4, "a 32-bit field");
    const std::uint32_t v = std::uint32_t{data_[pos_]} | (std::uint32_t{data_[pos_ + 1]} << 8) |
                            (std::uint32_t{data_[pos_ + 2]} << 16) | (std::uint32_t{data_[pos_ + 3]} << 24);
    pos_ += 4;
    return v;
  }
  std::uint32_t peek_tag() const {
    if (remaining() < 4) return 0;
    Cursor c = *this;
    const std::uint16_t group = c.u16();
    return dicom_tag(group, c.u16());
  }
  std::span<const std::uint8_t> take(std::uint32_t length, std::uint32_t tag) {
    if (remaining() < length) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("DICOM file is truncated: element {} at offset {} declares {} bytes, "
                              "{} remain",
                              tag_name(tag), pos_, length, remaining()));
    }
    const auto value = data_.subspan(pos_, length);
    pos_ += length;
    return value;
  }

  Header header(bool explicit_vr) {
    Header h;
    const std::size_t start = pos_;
    const std::uint16_t group = u16();
    h.tag = dicom_tag(group, u16());
    // Item and delimitation tags have no VR in either encoding.
    if (!explicit_vr || group == 0xfffe) {
      h.length = u32();
    } else {
      need(2, "a VR");
      h.vr[0] = static_cast<char>(data_[pos_]);
      h.vr[1] = static_cast<char>(data_[pos_ + 1]);
      pos_ += 2;
      if (h.vr[0] < 'A' || h.vr[0] > 'Z' || h.vr[1] < 'A' || h.vr[1] > 'Z') {
        throw_error(ErrorKind::BadInput,
                    fmt::format("DICOM element {} at offset {} has no valid VR (bytes {:02x} {:02x})", tag_name(h.tag),
                                start, data_[pos_ - 2], data_[pos_ - 1]));
      }
      if (has_long_length(h.vr[0], h.vr[1])) {
        u16();  // reserved
        h.length = u32();
      } else {
        h.length = u16();
      }
    }
    h.value_offset = pos_;
    return h;
  }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
};

void skip_sequence(Cursor& c, bool explicit_vr, int depth);

// The elements of one item with undefined length, up to its delimitation.
void skip_item_content(Cursor& c, bool explicit_vr, int depth) {
  while (true) {
    const Header h = c.header(explicit_vr);
    if (h.tag == kItemDelimitation) return;
    if (h.tag == kItem || h.tag == kSequenceDelimitation) {
      throw_error(ErrorKind::BadInput, fmt::format("DICOM item at offset {} is not closed", h.value_offset));
    }
    if (h.length == kUndefinedLength) {
      // Undefined length: a sequence; UN content is implicit VR (CP-246).
      const bool un = h.vr[0] == 'U' && h.vr[1] == 'N';
      skip_sequence(c, explicit_vr && !un, depth + 1);
    } else {
      c.take(h.length, h.tag);
    }
  }
}

// Items up to the sequence delimitation.
void skip_sequence(Cursor& c, bool explicit_vr, int depth) {
  if (depth > kMaxDepth) {
    throw_error(ErrorKind::BadInput,
                fmt::format("DICOM sequences nest deeper than {} at offset {}", kMaxDepth, c.offset()));
  }
  while (true) {
    const Header h = c.header(explicit_vr);
    if (h.tag == kSequenceDelimitation) return;
    if (h.tag != kItem) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("DICOM sequence holds {} at offset {}, not an item", tag_name(h.tag), h.value_offset));
    }
    if (h.length == kUndefinedLength) {
      skip_item_content(c, explicit_vr, depth);
    } else {
      c.take(h.length, h.tag);
    }
  }
}

void read_encapsulated(Cursor& c, DicomFile& file, std::uint64_t pixel_data_offset) {
  file.encapsulated = true;
  bool first = true;
  while (true) {
    if (first && (c.at_end() || (c.peek_tag() != kItem && c.peek_tag() != kSequenceDelimitation))) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("DICOM Pixel Data (7FE0,0010) at offset {} has an undefined length but is not "
                              "encapsulated: its value does not start with an item (FFFE,E000)",
                              pixel_data_offset));
    }
    const Header h = c.header(true);
    if (h.tag == kSequenceDelimitation) return;
    if (h.tag != kItem || h.length == kUndefinedLength) {
      throw_error(ErrorKind::BadInput, fmt::format("DICOM encapsulated pixel data holds {} at offset {}, not a "
                                                   "fragment",
                                                   tag_name(h.tag), h.value_offset));
    }
    const auto value = c.take(h.length, h.tag);
    if (first) {
      // The Basic Offset Table: 32-bit offsets of each frame's first fragment.
      for (std::size_t i = 0; i + 4 <= value.size(); i += 4) {
        file.offset_table.push_back(std::uint32_t{value[i]} | (std::uint32_t{value[i + 1]} << 8) |
                                    (std::uint32_t{value[i + 2]} << 16) | (std::uint32_t{value[i + 3]} << 24));
      }
      first = false;
      continue;
    }
    file.fragments.push_back(value);
  }
}

}  // namespace

std::string printable(std::string_view text) {
  constexpr std::size_t kMax = 64;
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (text.size() > kMax) out += "...";
  return out;
}

std::string DicomFile::text(std::uint32_t tag) const {
  const auto it = elements.find(tag);
  if (it == elements.end()) return {};
  std::string s(reinterpret_cast<const char*>(it->second.data()), it->second.size());
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  std::size_t lead = 0;
  while (lead < s.size() && s[lead] == ' ') ++lead;
  return s.substr(lead);
}

std::optional<std::uint16_t> DicomFile::us(std::uint32_t tag, const char* name) const {
  const auto it = elements.find(tag);
  if (it == elements.end() || it->second.empty()) return std::nullopt;
  if (it->second.size() < 2) {
    throw_error(ErrorKind::BadInput, fmt::format("DICOM {} has {} bytes, not 2", name, it->second.size()));
  }
  return static_cast<std::uint16_t>(it->second[0] | (it->second[1] << 8));
}

DicomFile parse_dicom(std::span<const std::uint8_t> data) {
  if (data.size() < kPreamble + 4 || std::memcmp(data.data() + kPreamble, "DICM", 4) != 0) {
    throw_error(ErrorKind::BadInput, "not a DICOM Part 10 file (no \"DICM\" after the 128-byte preamble)");
  }
  DicomFile file;
  Cursor c(data, kPreamble + 4);  // offsets in messages are from the start of the file

  // File meta information: group 0002, always explicit VR little endian.
  while (!c.at_end() && (c.peek_tag() >> 16) == 0x0002) {
    const Header h = c.header(true);
    if (h.length == kUndefinedLength) {
      throw_error(ErrorKind::BadInput, fmt::format("DICOM meta element {} at offset {} has an undefined length",
                                                   tag_name(h.tag), h.value_offset));
    }
    const auto value = c.take(h.length, h.tag);
    if (h.tag == kTransferSyntaxUid) {
      file.transfer_syntax.assign(reinterpret_cast<const char*>(value.data()), value.size());
      while (!file.transfer_syntax.empty() &&
             (file.transfer_syntax.back() == '\0' || file.transfer_syntax.back() == ' ')) {
        file.transfer_syntax.pop_back();
      }
    }
  }
  if (file.transfer_syntax.empty()) throw_error(ErrorKind::BadInput, "DICOM file meta has no Transfer Syntax UID");
  if (file.transfer_syntax == transfer_syntax::kExplicitBig || file.transfer_syntax == transfer_syntax::kDeflated) {
    throw_error(ErrorKind::Unsupported, fmt::format("DICOM transfer syntax {} (big-endian and deflated datasets are "
                                                    "not read)",
                                                    printable(file.transfer_syntax)));
  }
  const bool explicit_vr = file.transfer_syntax != transfer_syntax::kImplicitLittle;

  std::uint32_t previous = 0;
  while (!c.at_end()) {
    const Header h = c.header(explicit_vr);
    if ((h.tag >> 16) == 0xfffe) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("DICOM item tag {} at offset {} outside a sequence", tag_name(h.tag), h.value_offset));
    }
    if (h.tag < previous) {
      throw_error(ErrorKind::BadInput, fmt::format("DICOM element {} at offset {} is out of order (after {})",
                                                   tag_name(h.tag), h.value_offset, tag_name(previous)));
    }
    previous = h.tag;
    if (h.tag == kPixelData) {
      file.has_pixel_data = true;
      if (h.length == kUndefinedLength) {
        read_encapsulated(c, file, h.value_offset);
      } else {
        file.native_pixels = c.take(h.length, h.tag);
      }
      break;  // nothing after the pixels matters here
    }
    if (h.length == kUndefinedLength) {
      const bool un = h.vr[0] == 'U' && h.vr[1] == 'N';
      skip_sequence(c, explicit_vr && !un, 1);
      continue;
    }
    file.elements[h.tag] = c.take(h.length, h.tag);
  }
  return file;
}

}  // namespace pt2onnx::vision
