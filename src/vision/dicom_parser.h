// A minimal reader of DICOM Part 10 files, written to read hostile files: it
// walks the element structure, checks every length against the bytes that are
// there, and keeps views (into the caller's buffer) of the top-level values
// and of the pixel data. It interprets nothing else. GDCM's own parser is not
// used because Debian's GDCM keeps assert()s that abort the process on
// malformed headers, and one bad file must not end a long inference run.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pt2onnx::vision {

constexpr std::uint32_t dicom_tag(std::uint16_t group, std::uint16_t element) {
  return (std::uint32_t{group} << 16) | element;
}

struct DicomFile {
  std::string transfer_syntax;  // UID from (0002,0010), padding removed
  // Top-level elements with a defined length, by tag (pixel data excluded).
  std::map<std::uint32_t, std::span<const std::uint8_t>> elements;
  bool has_pixel_data = false;
  bool encapsulated = false;
  std::span<const std::uint8_t> native_pixels;           // when !encapsulated
  std::vector<std::uint32_t> offset_table;               // Basic Offset Table (may be empty)
  std::vector<std::span<const std::uint8_t>> fragments;  // when encapsulated, in order

  // A string value without its trailing spaces and NULs; "" when absent.
  [[nodiscard]] std::string text(std::uint32_t tag) const;
  // The first value of a US element; nullopt when absent, Error(BadInput) when shorter than 2 bytes.
  [[nodiscard]] std::optional<std::uint16_t> us(std::uint32_t tag, const char* name) const;
};

// Header text for an error message: printable ASCII kept, other bytes as
// \xNN, at most 64 characters (a hostile value must not garble the output).
std::string printable(std::string_view text);

// Needs the 128-byte preamble and "DICM". Supports the explicit and implicit
// VR little-endian encodings (every compressed transfer syntax uses the
// former); Error(Unsupported) for big-endian and deflated datasets,
// Error(BadInput) naming the offset and tag for anything malformed or
// truncated. Parsing stops after the pixel data.
DicomFile parse_dicom(std::span<const std::uint8_t> data);

namespace transfer_syntax {
inline constexpr std::string_view kImplicitLittle = "1.2.840.10008.1.2";
inline constexpr std::string_view kExplicitLittle = "1.2.840.10008.1.2.1";
inline constexpr std::string_view kDeflated = "1.2.840.10008.1.2.1.99";
inline constexpr std::string_view kExplicitBig = "1.2.840.10008.1.2.2";
inline constexpr std::string_view kJpegBaseline = "1.2.840.10008.1.2.4.50";
inline constexpr std::string_view kJpegExtended = "1.2.840.10008.1.2.4.51";
}  // namespace transfer_syntax

}  // namespace pt2onnx::vision
