#include "checkpoint/pickle_text.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx::checkpoint {
namespace {

// Protocol-0 numbers are one line each; the cap keeps a hostile line from
// making a huge BigInt string out of nothing.
constexpr std::size_t kMaxDigits = 10000;

[[noreturn]] void bad_literal(std::string_view what, std::string_view text) {
  throw_error(ErrorKind::BadInput, fmt::format("malformed {} literal '{}'", what, text.substr(0, 40)));
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::uint32_t parse_hex(std::string_view text, std::string_view what) {
  std::uint32_t v = 0;
  for (char c : text) {
    const int h = hex_value(c);
    if (h < 0) bad_literal(what, text);
    v = (v << 4) | static_cast<std::uint32_t>(h);
  }
  return v;
}

}  // namespace

Value parse_decimal_int(std::string_view text) {
  if (!text.empty() && text.back() == 'L') text.remove_suffix(1);
  if (text == "01") return Value::from_bool(true);  // protocol 0 spells True and False this way
  if (text == "00") return Value::from_bool(false);
  std::string_view digits = text;
  const bool negative = !digits.empty() && digits.front() == '-';
  if (negative || (!digits.empty() && digits.front() == '+')) digits.remove_prefix(1);
  if (digits.empty() || digits.size() > kMaxDigits) bad_literal("int", text);
  for (char c : digits) {
    if (c < '0' || c > '9') bad_literal("int", text);
  }
  std::int64_t v = 0;
  const char* first = text.data() + (text.front() == '+' ? 1 : 0);
  auto [ptr, ec] = std::from_chars(first, text.data() + text.size(), v);
  if (ec == std::errc() && ptr == text.data() + text.size()) return Value::from_int(v);
  // Too big for int64: keep the digits, without leading zeros.
  const auto nz = digits.find_first_not_of('0');
  std::string decimal = negative ? "-" : "";
  decimal += nz == std::string_view::npos ? std::string("0") : std::string(digits.substr(nz));
  return Value::big_int(std::move(decimal));
}

double parse_float_literal(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\r')) text.remove_suffix(1);
  double v = 0.0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc::result_out_of_range && ptr == text.data() + text.size()) {
    // Python reads an overflowing literal as inf and an underflowing one as 0.
    const auto e = text.find_first_of("eE");
    const bool tiny = e != std::string_view::npos && e + 1 < text.size() && text[e + 1] == '-';
    const double magnitude = tiny ? 0.0 : HUGE_VAL;
    return text.front() == '-' ? -magnitude : magnitude;
  }
  if (ec != std::errc() || ptr != text.data() + text.size()) bad_literal("float", text);
  return v;
}

std::string parse_quoted_string(std::string_view text) {
  if (text.size() < 2 || (text.front() != '\'' && text.front() != '"') || text.back() != text.front()) {
    bad_literal("string", text);
  }
  text = text.substr(1, text.size() - 2);
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= text.size()) bad_literal("string", text);
    c = text[i];
    switch (c) {
      case '\\':
        out += '\\';
        break;
      case '\'':
        out += '\'';
        break;
      case '"':
        out += '"';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      case '\n':
        break;  // line continuation
      case 'x': {
        if (i + 2 >= text.size()) bad_literal("string", text);
        out += static_cast<char>(parse_hex(text.substr(i + 1, 2), "string"));
        i += 2;
        break;
      }
      default:
        if (c >= '0' && c <= '7') {
          unsigned v = 0;
          std::size_t n = 0;
          while (n < 3 && i < text.size() && text[i] >= '0' && text[i] <= '7') {
            v = v * 8 + static_cast<unsigned>(text[i] - '0');
            ++i;
            ++n;
          }
          --i;
          out += static_cast<char>(v & 0xffU);
        } else {
          out += '\\';  // Python keeps unknown escapes as written
          out += c;
        }
    }
  }
  return out;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x110000) {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    throw_error(ErrorKind::BadInput, fmt::format("code point U+{:X} is beyond Unicode", cp));
  }
}

std::string decode_raw_unicode_escape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\\' && i + 1 < text.size() && (text[i + 1] == 'u' || text[i + 1] == 'U')) {
      const std::size_t n = text[i + 1] == 'u' ? 4 : 8;
      if (i + 2 + n > text.size()) bad_literal("unicode", text);
      append_utf8(out, parse_hex(text.substr(i + 2, n), "unicode"));
      i += 1 + n;
    } else {
      append_utf8(out, c);
    }
  }
  return out;
}

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = 0;
    if (c < 0x80) {
      n = 0;
    } else if ((c & 0xe0) == 0xc0 && c >= 0xc2) {
      n = 1;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
    } else if ((c & 0xf8) == 0xf0 && c <= 0xf4) {
      n = 3;
    } else {
      return false;
    }
    if (i + n >= text.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return false;
    }
    i += n + 1;
  }
  return true;
}

Value decode_long(std::span<const std::byte> bytes) {
  const std::size_t n = bytes.size();
  if (n == 0) return Value::from_int(0);
  auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes[i]); };
  const bool negative = (byte(n - 1) & 0x80U) != 0;
  // Fits in int64 when every byte above the eighth only repeats the sign.
  bool fits = true;
  for (std::size_t i = 8; i < n; ++i) fits = fits && byte(i) == (negative ? 0xffU : 0x00U);
  if (n > 8) fits = fits && ((byte(7) & 0x80U) != 0) == negative;
  if (fits) {
    std::uint64_t u = negative ? ~std::uint64_t{0} : 0;
    for (std::size_t i = 0; i < std::min<std::size_t>(n, 8); ++i) {
      u &= ~(std::uint64_t{0xff} << (8 * i));
      u |= std::uint64_t{byte(i)} << (8 * i);
    }
    return Value::from_int(static_cast<std::int64_t>(u));
  }
  // Magnitude as 32-bit limbs (two's complement negated for negative numbers).
  std::vector<std::uint8_t> mag(n);
  for (std::size_t i = 0; i < n; ++i) mag[i] = byte(i);
  if (negative) {
    unsigned carry = 1;
    for (auto& b : mag) {
      const unsigned v = static_cast<unsigned>(static_cast<std::uint8_t>(~b)) + carry;
      b = static_cast<std::uint8_t>(v & 0xffU);
      carry = v >> 8;
    }
  }
  std::vector<std::uint32_t> limbs((n + 3) / 4, 0);
  for (std::size_t i = 0; i < n; ++i) limbs[i / 4] |= std::uint32_t{mag[i]} << (8 * (i % 4));
  std::vector<std::uint32_t> chunks;  // base 1e9, least significant first
  constexpr std::uint64_t kBase = 1000000000;
  while (!limbs.empty()) {
    std::uint64_t rem = 0;
    for (std::size_t i = limbs.size(); i-- > 0;) {
      const std::uint64_t cur = (rem << 32) | limbs[i];
      limbs[i] = static_cast<std::uint32_t>(cur / kBase);
      rem = cur % kBase;
    }
    chunks.push_back(static_cast<std::uint32_t>(rem));
    while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
  }
  std::string out = negative ? "-" : "";
  out += fmt::format("{}", chunks.back());
  for (std::size_t i = chunks.size() - 1; i-- > 0;) out += fmt::format("{:09}", chunks[i]);
  return Value::big_int(std::move(out));
}

}  // namespace pt2onnx::checkpoint
