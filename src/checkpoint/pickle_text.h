// Decoders for the textual and numeric encodings inside pickles: the
// protocol-0 opcodes spell ints, floats and strings as Python literals, and
// LONG1/LONG4 carry arbitrary-precision two's-complement integers.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "checkpoint/value.h"

namespace pt2onnx::checkpoint {

// "123", "-7", "01" (True), "00" (False), with an optional trailing 'L'; an
// Int, a Bool, or a BigInt beyond int64. Throws Error(BadInput) otherwise.
Value parse_decimal_int(std::string_view text);

// A Python float literal as written by repr() ("0.1", "1e-05", "inf", "nan").
double parse_float_literal(std::string_view text);

// A quoted Python 2 str literal ('abc', "a\x00b") with its escapes decoded.
std::string parse_quoted_string(std::string_view text);

// raw-unicode-escape (protocol 0 UNICODE): bytes are latin-1 code points,
// except \uXXXX and \UXXXXXXXX escapes. Returned as UTF-8.
std::string decode_raw_unicode_escape(std::string_view text);

// Appends the UTF-8 encoding of a code point (surrogates are kept as Python's
// surrogatepass would, so they round-trip as bytes).
void append_utf8(std::string& out, std::uint32_t code_point);

// Two's-complement little-endian bytes (pickle's LONG1/LONG4) as an Int, or a
// BigInt with its decimal digits when it does not fit in int64.
Value decode_long(std::span<const std::byte> bytes);

// True when text is valid UTF-8 (pickle's BINSTRING carries undeclared bytes).
bool is_valid_utf8(std::string_view text);

}  // namespace pt2onnx::checkpoint
