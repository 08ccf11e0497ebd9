#include "common/npy.h"

#include "common/atomic_file.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx {
namespace {

constexpr std::array<unsigned char, 6> kMagic{0x93, 'N', 'U', 'M', 'P', 'Y'};
constexpr std::size_t kPreambleV1 = 10;  // magic, 2 version bytes, u16 header length
constexpr std::size_t kPreambleV2 = 12;  // magic, 2 version bytes, u32 header length
// numpy itself refuses headers past 10,000 bytes by default; a real one is ~100.
constexpr std::size_t kMaxHeaderLen = 65536;
// More dims than any real array has (numpy allows 64); bounds the parse.
constexpr std::size_t kMaxRank = 64;
constexpr std::size_t kHeaderAlign = 64;
constexpr std::size_t kGrowthDigits = 21;  // numpy.lib.format.GROWTH_AXIS_MAX_DIGITS

[[noreturn]] void bad(const std::string& what) { throw_error(ErrorKind::BadInput, what); }

struct Header {
  std::string descr;
  bool fortran_order = false;
  Shape shape;
};

// The header is the repr() of a Python dict: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// Only that subset of Python literal syntax is accepted.
class HeaderParser {
 public:
  explicit HeaderParser(std::string_view text) : s_(text) {}

  Header parse() {
    Header h;
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (true) {
      skip_ws();
      if (peek() == '}') break;
      const std::string key = parse_string();
      expect(':');
      if (key == "descr") {
        if (have_descr) fail("duplicate key 'descr'");
        skip_ws();
        if (peek() == '[') fail("'descr' is a structured dtype; expected '<f4'");
        h.descr = parse_string();
        have_descr = true;
      } else if (key == "fortran_order") {
        if (have_order) fail("duplicate key 'fortran_order'");
        h.fortran_order = parse_bool();
        have_order = true;
      } else if (key == "shape") {
        if (have_shape) fail("duplicate key 'shape'");
        h.shape = parse_shape();
        have_shape = true;
      } else {
        fail(fmt::format("unexpected key '{}'", key));
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      skip_ws();
      if (peek() != '}') fail("expected ',' or '}'");
    }
    expect('}');
    // numpy pads with spaces and ends the header with a newline.
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c != ' ' && c != '\n' && c != '\t' && c != '\r' && c != '\0') fail("garbage after the header dict");
    }
    if (!have_descr || !have_order || !have_shape) {
      fail("the header must have the keys 'descr', 'fortran_order' and 'shape'");
    }
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    bad(fmt::format("malformed header at offset {}: {}", pos_, what));
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) ++pos_;
  }
  void expect(char c) {
    skip_ws();
    if (peek() != c) fail(fmt::format("expected '{}'", c));
    ++pos_;
  }
  std::string parse_string() {
    skip_ws();
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a quoted string");
    ++pos_;
    const auto end = s_.find(quote, pos_);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string out(s_.substr(pos_, end - pos_));
    if (out.find('\\') != std::string::npos) fail("escapes in strings are not supported");
    pos_ = end + 1;
    return out;
  }
  bool parse_bool() {
    skip_ws();
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail("expected True or False");
  }
  std::int64_t parse_dim() {
    skip_ws();
    constexpr std::int64_t kMaxDim = std::int64_t{1} << 62;
    std::int64_t v = 0;
    std::size_t digits = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      const int digit = s_[pos_] - '0';
      if (v > (kMaxDim - digit) / 10) fail("dimension too large");
      v = v * 10 + digit;
      ++pos_;
      ++digits;
    }
    if (digits == 0) fail("expected a non-negative integer dimension");
    if (peek() == 'L') ++pos_;  // Python 2 long literal, as old numpy wrote them
    return v;
  }
  Shape parse_shape() {
    Shape shape;
    expect('(');
    while (true) {
      skip_ws();
      if (peek() == ')') break;
      if (shape.size() == kMaxRank) fail(fmt::format("more than {} dimensions", kMaxRank));
      shape.push_back(parse_dim());
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != ')') fail("expected ',' or ')' in the shape");
    }
    expect(')');
    return shape;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

std::uint32_t read_le(const std::byte* p, std::size_t n) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint32_t>(p[i]) << (8 * i);
  return v;
}

void check_descr(const std::string& descr) {
  if (descr == "<f4") return;
  if (descr == ">f4") bad("big-endian float32 ('>f4') is not supported; expected little-endian '<f4'");
  bad(fmt::format("dtype '{}' is not supported; expected float32 ('<f4')", descr));
}

Tensor parse(std::span<const std::byte> bytes) {
  if (bytes.size() < kPreambleV1 || std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0) {
    bad("not a .npy file (missing the \\x93NUMPY magic)");
  }
  const auto major = static_cast<unsigned>(bytes[6]);
  const auto minor = static_cast<unsigned>(bytes[7]);
  if (minor != 0 || major < 1 || major > 3) bad(fmt::format("unsupported .npy format version {}.{}", major, minor));
  const std::size_t preamble = major == 1 ? kPreambleV1 : kPreambleV2;
  if (bytes.size() < preamble) bad("truncated before the header length");
  const std::size_t header_len = read_le(bytes.data() + 8, preamble - 8);
  if (header_len > kMaxHeaderLen)
    bad(fmt::format("header length {} exceeds the limit of {}", header_len, kMaxHeaderLen));
  if (bytes.size() - preamble < header_len) {
    bad(fmt::format("truncated header: {} bytes declared, {} present", header_len, bytes.size() - preamble));
  }
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + preamble), header_len);
  const Header h = HeaderParser(text).parse();
  check_descr(h.descr);
  if (h.fortran_order) bad("fortran_order is True; only C-order arrays are supported");

  const std::int64_t numel = shape_numel(h.shape);
  const std::size_t have = bytes.size() - preamble - header_len;
  const auto need_elems = static_cast<std::uint64_t>(numel);
  if (need_elems > have / sizeof(float)) {
    bad(fmt::format("truncated data: shape {} of float32 needs {} bytes, the file holds {}", shape_to_string(h.shape),
                    need_elems * sizeof(float), have));
  }
  if (need_elems * sizeof(float) != have) {
    bad(fmt::format("{} bytes of data after the header where shape {} of float32 needs {}", have,
                    shape_to_string(h.shape), need_elems * sizeof(float)));
  }
  const std::byte* data = bytes.data() + preamble + header_len;
  return Tensor(DType::Float32, h.shape, std::vector<std::byte>(data, data + have));
}

}  // namespace

Tensor parse_npy(std::span<const std::byte> bytes, std::string_view name) {
  return with_error_context(fmt::format("file {}", name), [&] { return parse(bytes); });
}

Tensor read_npy(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::Io, fmt::format("cannot open {} for reading", path.string()));
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(ErrorKind::Io, fmt::format("cannot read the size of {}: {}", path.string(), ec.message()));
  std::vector<std::byte> bytes(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (static_cast<std::size_t>(in.gcount()) != bytes.size()) {
    throw Error(ErrorKind::Io, fmt::format("cannot read {}: short read", path.string()));
  }
  return parse_npy(bytes, path.string());
}

std::vector<std::byte> encode_npy(const Tensor& tensor) {
  const auto data = tensor.f32();  // throws Internal for other dtypes
  std::string shape;
  for (std::size_t i = 0; i < tensor.rank(); ++i) shape += (i == 0 ? "" : ", ") + std::to_string(tensor.dim(i));
  if (tensor.rank() == 1) shape += ",";  // a Python 1-tuple
  std::string header = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", shape);
  // Byte for byte what numpy.save writes: room for the first axis to grow to
  // kGrowthDigits digits, then spaces and a newline up to a 64-byte boundary
  // (a full 64 when already aligned). Version 1.0 has a 16-bit header length.
  if (tensor.rank() > 0) {
    const std::size_t digits = std::to_string(tensor.dim(0)).size();
    if (digits < kGrowthDigits) header.append(kGrowthDigits - digits, ' ');
  }
  const std::size_t unpadded = header.size() + 1;
  const auto pad_for = [&](std::size_t preamble) { return kHeaderAlign - (preamble + unpadded) % kHeaderAlign; };
  const std::size_t preamble = unpadded + pad_for(kPreambleV1) > 0xffff ? kPreambleV2 : kPreambleV1;
  header.append(pad_for(preamble), ' ');
  header.push_back('\n');

  std::vector<std::byte> out;
  out.reserve(preamble + header.size() + data.size_bytes());
  for (auto c : kMagic) out.push_back(static_cast<std::byte>(c));
  out.push_back(std::byte{preamble == kPreambleV1 ? std::uint8_t{1} : std::uint8_t{2}});
  out.push_back(std::byte{0});
  const std::size_t len = header.size();
  for (std::size_t i = 0; i < preamble - 8; ++i) out.push_back(static_cast<std::byte>((len >> (8 * i)) & 0xffU));
  for (char c : header) out.push_back(static_cast<std::byte>(c));
  const auto* p = reinterpret_cast<const std::byte*>(data.data());
  out.insert(out.end(), p, p + data.size_bytes());
  return out;
}

void write_npy(const std::filesystem::path& path, const Tensor& tensor) {
  write_file_atomically(path, std::span<const std::byte>(encode_npy(tensor)));
}

}  // namespace pt2onnx
