// Images made inside the tests, with the library's PNG, JPEG and DICOM
// writers, and small file helpers. Header only, because tests/CMakeLists.txt
// compiles *_test.cpp files alone.
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

// libspng's and libjpeg's constants (colour types, colour spaces) for the tests.
#include <jpeglib.h>
#include <spng.h>

#include "support/temp_dir.h"
#include "vision/image_encoder.h"

namespace pt2onnx::testing {

using Bytes = std::vector<std::uint8_t>;

// The library's writers (src/vision/image_encoder.h) under the tests' names.
using vision::DicomWriter;
using vision::encode_jpeg;
using vision::encode_png;
inline Bytes le16(const std::vector<std::int32_t>& values) { return vision::little_endian16(values); }

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
