// Writing images: PNG (libspng's encoder), baseline JPEG (libjpeg's
// compressor) and minimal uncompressed DICOM Part 10 files, explicit VR little
// endian. pt2onnx only reads images in its pipeline; these writers make the
// demo's sample images and the tests' hand-made files.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace pt2onnx::vision {

using Bytes = std::vector<std::uint8_t>;

// A PNG with the given IHDR fields. `pixels` are in PNG order (16-bit samples
// host-endian, low bit depths packed), `palette` the RGB triples of colour
// type 3. Throws Error(Internal) when libspng refuses.
Bytes encode_png(std::uint32_t width, std::uint32_t height, std::uint8_t color_type, std::uint8_t bit_depth,
                 const Bytes& pixels, const std::vector<std::array<std::uint8_t, 3>>& palette = {},
                 bool interlaced = false);

// A baseline JPEG of interleaved 8-bit pixels; `components` 1 (gray) or 3
// (RGB, stored as YCbCr).
Bytes encode_jpeg(int width, int height, int components, const Bytes& pixels, int quality = 90);

// A DICOM Part 10 file built element by element; the caller adds elements in
// tag order.
class DicomWriter {
 public:
  void us(std::uint16_t group, std::uint16_t element, std::uint16_t value);
  // UI values are padded with NUL, other string VRs with a space.
  void text(std::uint16_t group, std::uint16_t element, const char* vr, std::string value);
  // Native Pixel Data: OW for 16-bit samples, OB for 8-bit ones.
  void pixel_data(const Bytes& data, bool wide);

  // SOP class and instance, modality, and the image pixel module of a
  // grayscale (or `samples` = 3, RGB) image; the caller goes on with
  // windowing, rescale and pixel data in tag order.
  void image_header(int width, int height, int bits_allocated, int bits_stored, bool is_signed,
                    const char* photometric = "MONOCHROME2", int samples = 1);

  // Preamble, "DICM", file meta group (explicit VR little endian), then the body.
  [[nodiscard]] Bytes finish() const;

 private:
  Bytes body_;
};

// Samples as 16-bit little endian, as DICOM's OW stores them.
Bytes little_endian16(const std::vector<std::int32_t>& values);

}  // namespace pt2onnx::vision
