#include "vision/jpeg_decoder.h"

#include <csetjmp>
#include <cstdio>
#include <string>

#include <fmt/format.h>
// jpeglib.h needs size_t and FILE declared before it.
#include <jerror.h>
#include <jpeglib.h>

#include "pt2onnx/error.h"

namespace pt2onnx::vision {
namespace {

// A progressive JPEG can declare thousands of tiny scans, each of which costs
// a pass over the coefficients; real encoders write a few dozen at most.
constexpr long kMaxScans = 1000;

struct ErrorManager {
  jpeg_error_mgr pub{};
  std::jmp_buf jump{};
  std::string message;
  bool scanlines_done = false;
};

struct ProgressMonitor {
  jpeg_progress_mgr pub{};
  ErrorManager* errors = nullptr;
};

// libjpeg must not return from error_exit; we jump back to decode_stream,
// which has no C++ objects to destroy between the setjmp and here.
[[noreturn]] void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  char buffer[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, buffer);
  err->message.assign(buffer);
  std::longjmp(err->jump, 1);
}

// Warnings are ignored as PIL ignores them, except running out of data: PIL
// reports a truncated file as an error (LOAD_TRUNCATED_IMAGES is off), while
// libjpeg would pad the image with gray and carry on.
void on_message(j_common_ptr cinfo, int level) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  if (level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF && !err->scanlines_done) {
    err->message = "the JPEG stream is truncated (premature end of data)";
    std::longjmp(err->jump, 1);
  }
}

void on_progress(j_common_ptr cinfo) {
  auto* monitor = reinterpret_cast<ProgressMonitor*>(cinfo->progress);
  if (cinfo->is_decompressor) {
    auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
    if (d->input_scan_number > kMaxScans) {
      monitor->errors->message = fmt::format("the JPEG stream has more than {} scans", kMaxScans);
      std::longjmp(monitor->errors->jump, 1);
    }
  }
}

// Owns the libjpeg decompressor.
class Decompressor {
 public:
  Decompressor() {
    cinfo_.err = jpeg_std_error(&errors_.pub);
    errors_.pub.error_exit = on_error;
    errors_.pub.emit_message = on_message;
    progress_.pub.progress_monitor = on_progress;
    progress_.errors = &errors_;
    jpeg_create_decompress(&cinfo_);
    cinfo_.progress = &progress_.pub;
  }
  ~Decompressor() { jpeg_destroy_decompress(&cinfo_); }
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;

  jpeg_decompress_struct& cinfo() { return cinfo_; }
  ErrorManager& errors() { return errors_; }

 private:
  ErrorManager errors_;
  ProgressMonitor progress_;
  jpeg_decompress_struct cinfo_{};
};

// PIL opens 4-component JPEGs as "CMYK;I": it assumes Adobe's convention of
// inverted samples and stores 255 - v for each value libjpeg gives. Its
// convert("RGB") then computes nk - c * nk / 255 with nk = 255 - k, rounded as
// below. Arguments are libjpeg's (inverted) samples.
inline std::uint8_t cmyk_channel_to_rgb(int stored_ink, int stored_black) {
  const int ink = 255 - stored_ink;
  const int nk = stored_black;  // 255 - (255 - stored_black)
  const int t = ink * nk + 128;
  const int v = nk - (((t >> 8) + t) >> 8);
  return static_cast<std::uint8_t>(v < 0 ? 0 : v);
}

enum class Stage { Ok, Failed };

// Everything that can longjmp lives here. `image`, `cmyk_row` and `rows` are owned by
// the caller, so nothing with a destructor is skipped by a longjmp.
Stage decode_stream(Decompressor& d, std::span<const std::uint8_t> data, const ImageLimits& limits, Image& image,
                    std::vector<std::uint8_t>& cmyk_row, std::vector<JSAMPROW>& rows, std::string& size_error) {
  auto& cinfo = d.cinfo();
  if (setjmp(d.errors().jump) != 0) return Stage::Failed;

  jpeg_mem_src(&cinfo, data.data(), static_cast<unsigned long>(data.size()));
  jpeg_read_header(&cinfo, TRUE);

  int channels = 3;
  bool cmyk = false;
  switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
      cinfo.out_color_space = JCS_GRAYSCALE;
      channels = 1;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      cinfo.out_color_space = JCS_CMYK;
      cmyk = true;
      break;
    default:
      cinfo.out_color_space = JCS_RGB;
      break;
  }
  // Checked before jpeg_start_decompress, which allocates the whole-image
  // coefficient buffers of progressive files.
  try {
    check_image_size(cinfo.image_width, cinfo.image_height, limits);
  } catch (const Error& e) {
    size_error = e.message();
    return Stage::Failed;
  }
  jpeg_start_decompress(&cinfo);
  if (static_cast<int>(cinfo.output_components) != (cmyk ? 4 : channels)) {
    size_error = fmt::format("libjpeg gives {} components for color space {}", cinfo.output_components,
                             static_cast<int>(cinfo.jpeg_color_space));
    return Stage::Failed;
  }
  const int width = static_cast<int>(cinfo.output_width);
  const int height = static_cast<int>(cinfo.output_height);
  image = make_image_unset(width, height, channels);  // libjpeg writes every row
  if (cmyk) cmyk_row.resize(static_cast<std::size_t>(width) * 4);

  if (!cmyk) {
    // Every remaining row at once: libjpeg then writes whole row groups
    // straight into the image instead of going through its one-row buffer.
    rows.resize(static_cast<std::size_t>(height));
    for (int y = 0; y < height; ++y) rows[static_cast<std::size_t>(y)] = image.row(y);
    while (cinfo.output_scanline < cinfo.output_height) {
      const JDIMENSION done = cinfo.output_scanline;
      if (jpeg_read_scanlines(&cinfo, rows.data() + done, cinfo.output_height - done) == 0) {
        d.errors().message = "libjpeg returned no scanline";
        return Stage::Failed;
      }
    }
  }
  // CMYK rows go through cmyk_row one at a time (a non-CMYK image is done).
  while (cinfo.output_scanline < cinfo.output_height) {
    const int y = static_cast<int>(cinfo.output_scanline);
    JSAMPROW row = cmyk_row.data();
    if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
      d.errors().message = "libjpeg returned no scanline";
      return Stage::Failed;
    }
    std::uint8_t* out = image.row(y);
    for (int x = 0; x < width; ++x) {
      const std::uint8_t* p = cmyk_row.data() + 4 * x;
      out[3 * x + 0] = cmyk_channel_to_rgb(p[0], p[3]);
      out[3 * x + 1] = cmyk_channel_to_rgb(p[1], p[3]);
      out[3 * x + 2] = cmyk_channel_to_rgb(p[2], p[3]);
    }
  }
  // Trailing bytes after the last scanline (a missing EOI, say) do not matter
  // to the pixels, so the stream is not read to its end.
  d.errors().scanlines_done = true;
  return Stage::Ok;
}

}  // namespace

Image decode_jpeg(std::span<const std::uint8_t> data, const ImageLimits& limits) {
  Decompressor d;
  Image image;
  std::vector<std::uint8_t> cmyk_row;
  std::vector<JSAMPROW> rows;
  std::string size_error;
  if (decode_stream(d, data, limits, image, cmyk_row, rows, size_error) == Stage::Failed) {
    const std::string& why = size_error.empty() ? d.errors().message : size_error;
    throw_error(ErrorKind::BadInput, fmt::format("cannot decode JPEG: {}", why));
  }
  return image;
}

}  // namespace pt2onnx::vision
