// Images made inside the tests: PNG (libspng's encoder), JPEG (libjpeg's
// compressor) and minimal DICOM Part 10 files written byte by byte. Header
// only, because tests/CMakeLists.txt compiles *_test.cpp files alone.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <jpeglib.h>
#include <spng.h>

#include "support/temp_dir.h"

namespace pt2onnx::testing {

using Bytes = std::vector<std::uint8_t>;

// A PNG of the given IHDR. `pixels` are in PNG order (16-bit host-endian,
// low bit depths packed), `palette` RGB triples for colour type 3.
inline Bytes encode_png(std::uint32_t width, std::uint32_t height, std::uint8_t color_type, std::uint8_t bit_depth,
                        const Bytes& pixels, const std::vector<std::array<std::uint8_t, 3>>& palette = {},
                        bool interlaced = false) {
  spng_ctx* ctx = spng_ctx_new(SPNG_CTX_ENCODER);
  spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
  spng_ihdr ihdr{};
  ihdr.width = width;
  ihdr.height = height;
  ihdr.color_type = color_type;
  ihdr.bit_depth = bit_depth;
  ihdr.interlace_method = interlaced ? 1 : 0;
  spng_set_ihdr(ctx, &ihdr);
  if (!palette.empty()) {
    spng_plte plte{};
    plte.n_entries = static_cast<std::uint32_t>(palette.size());
    for (std::size_t i = 0; i < palette.size(); ++i) {
      plte.entries[i].red = palette[i][0];
      plte.entries[i].green = palette[i][1];
      plte.entries[i].blue = palette[i][2];
    }
    spng_set_plte(ctx, &plte);
  }
  int rc = spng_encode_image(ctx, pixels.data(), pixels.size(), SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
  std::size_t len = 0;
  void* buffer = rc == 0 ? spng_get_png_buffer(ctx, &len, &rc) : nullptr;
  spng_ctx_free(ctx);
  if (buffer == nullptr) throw std::runtime_error(std::string("encode_png: ") + spng_strerror(rc));
  Bytes out(static_cast<const std::uint8_t*>(buffer), static_cast<const std::uint8_t*>(buffer) + len);
  std::free(buffer);
  return out;
}

// A baseline JPEG; `components` 1 (gray) or 3 (RGB, stored as YCbCr).
inline Bytes encode_jpeg(int width, int height, int components, const Bytes& pixels, int quality = 90) {
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr jerr{};
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(width);
  cinfo.image_height = static_cast<JDIMENSION>(height);
  cinfo.input_components = components;
  cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  const std::size_t stride = static_cast<std::size_t>(width) * static_cast<std::size_t>(components);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(pixels.data() + cinfo.next_scanline * stride);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  Bytes out(buffer, buffer + size);
  std::free(buffer);
  return out;
}

// Deterministic pseudo-random bytes.
inline Bytes random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng() & 0xff);
  return out;
}

// A smooth test pattern (ramps, JPEG-friendly), `channels` interleaved.
inline Bytes gradient(int width, int height, int channels) {
  Bytes out(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * static_cast<std::size_t>(channels));
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) {
        out[(static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)) *
                static_cast<std::size_t>(channels) +
            static_cast<std::size_t>(c)] =
            static_cast<std::uint8_t>((x * 160 / std::max(1, width - 1) + y * 80 / std::max(1, height - 1) + c * 7) %
                                      256);
      }
    }
  }
  return out;
}

// Minimal DICOM Part 10 writer, explicit VR little endian.
class DicomWriter {
 public:
  void us(std::uint16_t group, std::uint16_t element, std::uint16_t value) {
    Bytes v{static_cast<std::uint8_t>(value & 0xff), static_cast<std::uint8_t>(value >> 8)};
    add(group, element, "US", v);
  }
  void text(std::uint16_t group, std::uint16_t element, const char* vr, std::string value) {
    // UI values pad with NUL, the other string VRs with a space.
    if (value.size() % 2 != 0) value += std::strcmp(vr, "UI") == 0 ? '\0' : ' ';
    add(group, element, vr, Bytes(value.begin(), value.end()));
  }
  void pixel_data(const Bytes& data, bool wide) {
    Bytes padded = data;
    if (padded.size() % 2 != 0) padded.push_back(0);
    add(0x7fe0, 0x0010, wide ? "OW" : "OB", padded);
  }

  // A grayscale image header (Rows, Columns and the pixel module), to which
  // the caller adds windowing, rescale and pixel data in tag order.
  void image_header(int width, int height, int bits_allocated, int bits_stored, bool is_signed,
                    const char* photometric = "MONOCHROME2", int samples = 1) {
    text(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.1.2");
    text(0x0008, 0x0018, "UI", "1.2.3.4.5.6.7.8.9");
    text(0x0008, 0x0060, "CS", "MG");
    us(0x0028, 0x0002, static_cast<std::uint16_t>(samples));
    text(0x0028, 0x0004, "CS", photometric);
    if (samples == 3) us(0x0028, 0x0006, 0);
    us(0x0028, 0x0010, static_cast<std::uint16_t>(height));
    us(0x0028, 0x0011, static_cast<std::uint16_t>(width));
    us(0x0028, 0x0100, static_cast<std::uint16_t>(bits_allocated));
    us(0x0028, 0x0101, static_cast<std::uint16_t>(bits_stored));
    us(0x0028, 0x0102, static_cast<std::uint16_t>(bits_stored - 1));
    us(0x0028, 0x0103, is_signed ? 1 : 0);
  }

  Bytes finish() const {
    Bytes meta;
    const auto put_meta = [&](std::uint16_t element, const char* vr, Bytes value) {
      append_element(meta, 0x0002, element, vr, value);
    };
    put_meta(0x0001, "OB", Bytes{0, 1});
    put_meta(0x0002, "UI", ui("1.2.840.10008.5.1.4.1.1.1.2"));
    put_meta(0x0003, "UI", ui("1.2.3.4.5.6.7.8.9"));
    put_meta(0x0010, "UI", ui("1.2.840.10008.1.2.1"));
    Bytes out(132, 0);
    out[128] = 'D';
    out[129] = 'I';
    out[130] = 'C';
    out[131] = 'M';
    const auto length = static_cast<std::uint32_t>(meta.size());
    Bytes group_length{static_cast<std::uint8_t>(length), static_cast<std::uint8_t>(length >> 8),
                       static_cast<std::uint8_t>(length >> 16), static_cast<std::uint8_t>(length >> 24)};
    append_element(out, 0x0002, 0x0000, "UL", group_length);
    out.insert(out.end(), meta.begin(), meta.end());
    out.insert(out.end(), body_.begin(), body_.end());
    return out;
  }

 private:
  static Bytes ui(std::string s) {
    if (s.size() % 2 != 0) s += '\0';
    return Bytes(s.begin(), s.end());
  }
  static void append_element(Bytes& out, std::uint16_t group, std::uint16_t element, const char* vr,
                             const Bytes& value) {
    const auto put16 = [&](std::uint16_t v) {
      out.push_back(static_cast<std::uint8_t>(v & 0xff));
      out.push_back(static_cast<std::uint8_t>(v >> 8));
    };
    put16(group);
    put16(element);
    out.push_back(static_cast<std::uint8_t>(vr[0]));
    out.push_back(static_cast<std::uint8_t>(vr[1]));
    const bool long_form = std::strcmp(vr, "OB") == 0 || std::strcmp(vr, "OW") == 0 || std::strcmp(vr, "UN") == 0;
    const auto n = static_cast<std::uint32_t>(value.size());
    if (long_form) {
      put16(0);
      put16(static_cast<std::uint16_t>(n & 0xffff));
      put16(static_cast<std::uint16_t>(n >> 16));
    } else {
      put16(static_cast<std::uint16_t>(n));
    }
    out.insert(out.end(), value.begin(), value.end());
  }
  void add(std::uint16_t group, std::uint16_t element, const char* vr, const Bytes& value) {
    append_element(body_, group, element, vr, value);
  }

  Bytes body_;
};

// 16-bit little-endian samples.
inline Bytes le16(const std::vector<std::int32_t>& values) {
  Bytes out;
  for (std::int32_t v : values) {
    const auto u = static_cast<std::uint16_t>(v);
    out.push_back(static_cast<std::uint8_t>(u & 0xff));
    out.push_back(static_cast<std::uint8_t>(u >> 8));
  }
  return out;
}

inline void write_file(const std::filesystem::path& path, const Bytes& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  write_file(path, Bytes(text.begin(), text.end()));
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// PNG's CRC-32 (for tests that patch a chunk and must keep it valid).
inline std::uint32_t png_crc(const std::uint8_t* data, std::size_t n) {
  std::uint32_t c = 0xffffffffu;
  for (std::size_t i = 0; i < n; ++i) {
    c ^= data[i];
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xffffffffu;
}

}  // namespace pt2onnx::testing
