#include "vision/image_decoder.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "pt2onnx/error.h"
#include "vision/dicom_decoder.h"
#include "vision/jpeg_decoder.h"
#include "vision/png_decoder.h"

namespace pt2onnx::vision {
namespace {

constexpr std::uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
constexpr std::size_t kDicomMagicOffset = 128;

bool starts_with(std::span<const std::uint8_t> data, std::span<const std::uint8_t> prefix) {
  return data.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), data.begin());
}

// What the first bytes look like, for the "not an image" message.
std::string describe_head(std::span<const std::uint8_t> data) {
  std::string hex;
  const std::size_t n = std::min<std::size_t>(data.size(), 8);
  for (std::size_t i = 0; i < n; ++i) hex += fmt::format("{}{:02x}", i == 0 ? "" : " ", data[i]);
  return hex;
}

}  // namespace

std::string_view image_format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::Jpeg:
      return "JPEG";
    case ImageFormat::Png:
      return "PNG";
    case ImageFormat::Dicom:
      return "DICOM";
    case ImageFormat::Unknown:
      return "unknown";
  }
  return "unknown";
}

ImageFormat sniff_image_format(std::span<const std::uint8_t> head) {
  constexpr std::uint8_t kJpeg[3] = {0xff, 0xd8, 0xff};
  constexpr std::uint8_t kDicm[4] = {'D', 'I', 'C', 'M'};
  if (starts_with(head, kJpeg)) return ImageFormat::Jpeg;
  if (starts_with(head, kPngSignature)) return ImageFormat::Png;
  if (head.size() >= kDicomMagicOffset + 4 && starts_with(head.subspan(kDicomMagicOffset), kDicm)) {
    return ImageFormat::Dicom;
  }
  return ImageFormat::Unknown;
}

Image decode_image(std::span<const std::uint8_t> data, const ImageLimits& limits) {
  switch (sniff_image_format(data)) {
    case ImageFormat::Jpeg:
      return decode_jpeg(data, limits);
    case ImageFormat::Png:
      return decode_png(data, limits);
    case ImageFormat::Dicom:
      return decode_dicom(data, limits);
    case ImageFormat::Unknown:
      break;
  }
  if (data.empty()) throw_error(ErrorKind::BadInput, "file is empty");
  // A file cut inside its signature is a truncated file of that format.
  const auto cut_signature = [&](std::span<const std::uint8_t> signature) {
    return data.size() < signature.size() && std::equal(data.begin(), data.end(), signature.begin());
  };
  constexpr std::uint8_t kJpegStart[3] = {0xff, 0xd8, 0xff};
  if (cut_signature(kJpegStart) && data.size() >= 2) {
    throw_error(ErrorKind::BadInput, fmt::format("truncated JPEG: the file ends after {} bytes", data.size()));
  }
  if (cut_signature(kPngSignature) && data.size() >= 4) {
    throw_error(ErrorKind::BadInput, fmt::format("truncated PNG: the file ends after {} bytes", data.size()));
  }
  throw_error(ErrorKind::BadInput,
              fmt::format("not a JPEG, PNG or DICOM file (it starts with {})", describe_head(data)));
}

std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path, const ImageLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error(ErrorKind::Io, fmt::format("cannot open: {}", std::strerror(errno)));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) throw_error(ErrorKind::Io, "cannot determine the file size");
  if (size == 0) throw_error(ErrorKind::BadInput, "file is empty");
  if (size > limits.max_file_bytes) {
    throw_error(ErrorKind::BadInput,
                fmt::format("file is {} bytes, over the limit of {} bytes", size, limits.max_file_bytes));
  }
  in.seekg(0, std::ios::beg);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  if (in.gcount() != size) {
    throw_error(ErrorKind::Io, fmt::format("read {} of {} bytes", in.gcount(), size));
  }
  return bytes;
}

Image load_image(const std::filesystem::path& path, const ImageLimits& limits) {
  return with_error_context("file " + path.string(), [&] {
    const std::vector<std::uint8_t> bytes = read_file_bytes(path, limits);
    return decode_image(bytes, limits);
  });
}

}  // namespace pt2onnx::vision
