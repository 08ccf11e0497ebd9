#include "vision/image_encoder.h"

#include <cstdlib>
#include <cstring>
#include <memory>

#include <jpeglib.h>
#include <spng.h>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx::vision {
namespace {

struct SpngWriterFree {
  void operator()(spng_ctx* ctx) const { spng_ctx_free(ctx); }
};

struct MallocFree {
  void operator()(void* p) const { std::free(p); }
};

void check_spng_write(int rc, const char* what) {
  if (rc != 0) throw_error(ErrorKind::Internal, fmt::format("cannot encode PNG: {}: {}", what, spng_strerror(rc)));
}

Bytes ui_value(std::string s) {
  if (s.size() % 2 != 0) s += '\0';
  return {s.begin(), s.end()};
}

void append_element(Bytes& out, std::uint16_t group, std::uint16_t element, const char* vr, const Bytes& value) {
  const auto put16 = [&](std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v & 0xff));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
  };
  put16(group);
  put16(element);
  out.push_back(static_cast<std::uint8_t>(vr[0]));
  out.push_back(static_cast<std::uint8_t>(vr[1]));
  // OB, OW and UN have a reserved word and a 32-bit length; the VRs used here have 16-bit lengths.
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

}  // namespace

Bytes encode_png(std::uint32_t width, std::uint32_t height, std::uint8_t color_type, std::uint8_t bit_depth,
                 const Bytes& pixels, const std::vector<std::array<std::uint8_t, 3>>& palette, bool interlaced) {
  std::unique_ptr<spng_ctx, SpngWriterFree> ctx(spng_ctx_new(SPNG_CTX_ENCODER));
  if (!ctx) throw_error(ErrorKind::Internal, "cannot encode PNG: out of memory");
  check_spng_write(spng_set_option(ctx.get(), SPNG_ENCODE_TO_BUFFER, 1), "setting the output buffer");
  spng_ihdr ihdr{};
  ihdr.width = width;
  ihdr.height = height;
  ihdr.color_type = color_type;
  ihdr.bit_depth = bit_depth;
  ihdr.interlace_method = interlaced ? 1 : 0;
  check_spng_write(spng_set_ihdr(ctx.get(), &ihdr), "the header");
  if (!palette.empty()) {
    spng_plte plte{};
    plte.n_entries = static_cast<std::uint32_t>(palette.size());
    for (std::size_t i = 0; i < palette.size() && i < 256; ++i) {
      plte.entries[i].red = palette[i][0];
      plte.entries[i].green = palette[i][1];
      plte.entries[i].blue = palette[i][2];
    }
    check_spng_write(spng_set_plte(ctx.get(), &plte), "the palette");
  }
  check_spng_write(spng_encode_image(ctx.get(), pixels.data(), pixels.size(), SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE),
                   "the pixels");
  std::size_t length = 0;
  int rc = 0;
  std::unique_ptr<void, MallocFree> buffer(spng_get_png_buffer(ctx.get(), &length, &rc));
  check_spng_write(rc, "the output buffer");
  const auto* begin = static_cast<const std::uint8_t*>(buffer.get());
  return {begin, begin + length};
}

Bytes encode_jpeg(int width, int height, int components, const Bytes& pixels, int quality) {
  if (components != 1 && components != 3) throw_error(ErrorKind::Internal, "cannot encode JPEG: 1 or 3 components");
  const std::size_t stride = static_cast<std::size_t>(width) * static_cast<std::size_t>(components);
  if (width <= 0 || height <= 0 || pixels.size() < stride * static_cast<std::size_t>(height)) {
    throw_error(ErrorKind::Internal, "cannot encode JPEG: fewer pixels than the size needs");
  }
  // libjpeg's default error handler exits the process; with valid sizes and an
  // in-memory destination the compressor has nothing left to fail on.
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr errors{};
  cinfo.err = jpeg_std_error(&errors);
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
  while (cinfo.next_scanline < cinfo.image_height) {
    auto* row = const_cast<JSAMPROW>(pixels.data() + cinfo.next_scanline * stride);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::unique_ptr<unsigned char, MallocFree> owned(buffer);
  return {buffer, buffer + size};
}

void DicomWriter::us(std::uint16_t group, std::uint16_t element, std::uint16_t value) {
  append_element(body_, group, element, "US",
                 Bytes{static_cast<std::uint8_t>(value & 0xff), static_cast<std::uint8_t>(value >> 8)});
}

void DicomWriter::text(std::uint16_t group, std::uint16_t element, const char* vr, std::string value) {
  if (value.size() % 2 != 0) value += std::strcmp(vr, "UI") == 0 ? '\0' : ' ';
  append_element(body_, group, element, vr, Bytes(value.begin(), value.end()));
}

void DicomWriter::pixel_data(const Bytes& data, bool wide) {
  Bytes padded = data;
  if (padded.size() % 2 != 0) padded.push_back(0);
  append_element(body_, 0x7fe0, 0x0010, wide ? "OW" : "OB", padded);
}

void DicomWriter::image_header(int width, int height, int bits_allocated, int bits_stored, bool is_signed,
                               const char* photometric, int samples) {
  text(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.1.2");  // digital mammography, for presentation
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

Bytes DicomWriter::finish() const {
  Bytes meta;
  append_element(meta, 0x0002, 0x0001, "OB", Bytes{0, 1});
  append_element(meta, 0x0002, 0x0002, "UI", ui_value("1.2.840.10008.5.1.4.1.1.1.2"));
  append_element(meta, 0x0002, 0x0003, "UI", ui_value("1.2.3.4.5.6.7.8.9"));
  append_element(meta, 0x0002, 0x0010, "UI", ui_value("1.2.840.10008.1.2.1"));  // explicit VR little endian
  Bytes out(132, 0);                                                            // the preamble, then the prefix
  out[128] = 'D';
  out[129] = 'I';
  out[130] = 'C';
  out[131] = 'M';
  const auto length = static_cast<std::uint32_t>(meta.size());
  append_element(out, 0x0002, 0x0000, "UL",
                 Bytes{static_cast<std::uint8_t>(length), static_cast<std::uint8_t>(length >> 8),
                       static_cast<std::uint8_t>(length >> 16), static_cast<std::uint8_t>(length >> 24)});
  out.insert(out.end(), meta.begin(), meta.end());
  out.insert(out.end(), body_.begin(), body_.end());
  return out;
}

Bytes little_endian16(const std::vector<std::int32_t>& values) {
  Bytes out;
  out.reserve(values.size() * 2);
  for (const std::int32_t v : values) {
    const auto u = static_cast<std::uint16_t>(v);
    out.push_back(static_cast<std::uint8_t>(u & 0xff));
    out.push_back(static_cast<std::uint8_t>(u >> 8));
  }
  return out;
}

}  // namespace pt2onnx::vision
