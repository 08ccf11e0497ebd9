#include "vision/dicom_decoder.h"

#include <charconv>
#include <cmath>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gdcmDataElement.h>
#include <gdcmImage.h>
#include <gdcmSequenceOfFragments.h>
#include <gdcmTrace.h>
#include <gdcmTransferSyntax.h>

#include "pt2onnx/error.h"
#include "vision/dicom_parser.h"
#include "vision/dicom_pixels.h"
#include "vision/jpeg_decoder.h"

// The file is parsed by dicom_parser (hostile-input safe); the image module is
// read and checked here; uncompressed pixels are used as they are, 8-bit JPEG
// goes through our own libjpeg-turbo decoder (as pydicom with pylibjpeg
// would), and only the other codecs (JPEG lossless and 12-bit, JPEG-LS,
// JPEG 2000, RLE) are GDCM's.

namespace pt2onnx::vision {
namespace {

// GDCM's codecs decode whole pixel data elements: all frames of a large
// multi-frame file (tomosynthesis) at once could take gigabytes.
constexpr std::uint64_t kMaxDecodedBytes = std::uint64_t{1} << 31;

constexpr std::uint32_t kSamplesPerPixel = dicom_tag(0x0028, 0x0002);
constexpr std::uint32_t kPhotometric = dicom_tag(0x0028, 0x0004);
constexpr std::uint32_t kPlanarConfiguration = dicom_tag(0x0028, 0x0006);
constexpr std::uint32_t kNumberOfFrames = dicom_tag(0x0028, 0x0008);
constexpr std::uint32_t kRows = dicom_tag(0x0028, 0x0010);
constexpr std::uint32_t kColumns = dicom_tag(0x0028, 0x0011);
constexpr std::uint32_t kBitsAllocated = dicom_tag(0x0028, 0x0100);
constexpr std::uint32_t kBitsStored = dicom_tag(0x0028, 0x0101);
constexpr std::uint32_t kHighBit = dicom_tag(0x0028, 0x0102);
constexpr std::uint32_t kPixelRepresentation = dicom_tag(0x0028, 0x0103);
constexpr std::uint32_t kWindowCenter = dicom_tag(0x0028, 0x1050);
constexpr std::uint32_t kWindowWidth = dicom_tag(0x0028, 0x1051);
constexpr std::uint32_t kRescaleIntercept = dicom_tag(0x0028, 0x1052);
constexpr std::uint32_t kRescaleSlope = dicom_tag(0x0028, 0x1053);
constexpr std::uint32_t kVoiLutFunction = dicom_tag(0x0028, 0x1056);

// GDCM reports problems on std::cerr by default; ours go into the Error.
void silence_gdcm() {
  static std::once_flag once;
  std::call_once(once, [] {
    gdcm::Trace::SetDebug(false);
    gdcm::Trace::SetWarning(false);
    gdcm::Trace::SetError(false);
  });
}

std::uint16_t required_us(const DicomFile& file, std::uint32_t tag, const char* name) {
  const auto v = file.us(tag, name);
  if (!v) throw_error(ErrorKind::BadInput, fmt::format("DICOM {} is missing", name));
  return *v;
}

// An optional numeric attribute: absent is fine, present but unreadable is not.
std::optional<double> decimal_attribute(const DicomFile& file, std::uint32_t tag, const char* name) {
  const std::string text = file.text(tag);
  if (text.find_first_not_of(" \\") == std::string::npos) return std::nullopt;
  const auto value = parse_first_decimal(text);
  if (!value) throw_error(ErrorKind::BadInput, fmt::format("DICOM {} '{}' is not a number", name, printable(text)));
  return value;
}

std::optional<VoiWindow> read_window(const DicomFile& file) {
  // An unreadable window counts as absent (full range), as a viewer would
  // show such an image; a bad rescale is an error, since it decides what is bright.
  std::optional<double> center;
  std::optional<double> width;
  try {
    center = decimal_attribute(file, kWindowCenter, "WindowCenter");
    width = decimal_attribute(file, kWindowWidth, "WindowWidth");
  } catch (const Error&) {
    return std::nullopt;
  }
  if (!center || !width) return std::nullopt;
  VoiWindow window{*center, *width, VoiFunction::Linear};
  const std::string function = file.text(kVoiLutFunction);
  if (function == "LINEAR_EXACT") window.function = VoiFunction::LinearExact;
  if (function == "SIGMOID") window.function = VoiFunction::Sigmoid;
  return window;
}

// The header's image description, checked before any pixel is touched.
struct ImageModule {
  DicomFrame frame;
  std::uint64_t frames = 1;
  std::uint16_t high_bit = 0;
  gdcm::PhotometricInterpretation::PIType pi = gdcm::PhotometricInterpretation::MONOCHROME2;
  std::string pi_text;
};

ImageModule read_image_module(const DicomFile& file, const ImageLimits& limits) {
  ImageModule m;
  DicomFrame& f = m.frame;
  const std::uint16_t rows = required_us(file, kRows, "Rows");
  const std::uint16_t columns = required_us(file, kColumns, "Columns");
  check_image_size(columns, rows, limits);
  f.width = columns;
  f.height = rows;
  f.samples_per_pixel = file.us(kSamplesPerPixel, "SamplesPerPixel").value_or(1);
  f.bits_allocated = required_us(file, kBitsAllocated, "BitsAllocated");
  f.bits_stored = file.us(kBitsStored, "BitsStored").value_or(static_cast<std::uint16_t>(f.bits_allocated));
  m.high_bit = file.us(kHighBit, "HighBit").value_or(static_cast<std::uint16_t>(f.bits_stored - 1));
  f.is_signed = file.us(kPixelRepresentation, "PixelRepresentation").value_or(0) == 1;
  f.planar = file.us(kPlanarConfiguration, "PlanarConfiguration").value_or(0) == 1;
  if (f.bits_allocated != 8 && f.bits_allocated != 16) {
    throw_error(ErrorKind::Unsupported,
                fmt::format("DICOM BitsAllocated {} (8 and 16 are supported)", f.bits_allocated));
  }
  if (f.bits_stored < 1 || f.bits_stored > f.bits_allocated || m.high_bit + 1 != f.bits_stored) {
    throw_error(ErrorKind::Unsupported, fmt::format("DICOM BitsStored {} with HighBit {} and BitsAllocated {} "
                                                    "(HighBit = BitsStored - 1 is supported)",
                                                    f.bits_stored, m.high_bit, f.bits_allocated));
  }
  if (f.samples_per_pixel != 1 && f.samples_per_pixel != 3) {
    throw_error(ErrorKind::Unsupported, fmt::format("DICOM SamplesPerPixel {}", f.samples_per_pixel));
  }

  using PI = gdcm::PhotometricInterpretation;
  m.pi_text = file.text(kPhotometric);
  const std::string& pi = m.pi_text;
  if (pi.empty() && f.samples_per_pixel == 1) {
    m.pi = PI::MONOCHROME2;
  } else if (pi == "MONOCHROME1" || pi == "MONOCHROME2" || pi == "RGB" || pi == "YBR_FULL" || pi == "YBR_FULL_422" ||
             pi == "YBR_ICT" || pi == "YBR_RCT") {
    m.pi = PI::GetPIType(pi.c_str());
  } else {
    throw_error(ErrorKind::Unsupported,
                fmt::format("DICOM photometric interpretation '{}' (MONOCHROME1, MONOCHROME2, RGB and YBR are "
                            "supported)",
                            printable(pi)));
  }
  const bool gray = m.pi == PI::MONOCHROME1 || m.pi == PI::MONOCHROME2;
  if (gray != (f.samples_per_pixel == 1)) {
    throw_error(ErrorKind::BadInput, fmt::format("DICOM SamplesPerPixel {} does not fit photometric interpretation {}",
                                                 f.samples_per_pixel, printable(pi)));
  }

  const std::string frames_text = file.text(kNumberOfFrames);
  if (!frames_text.empty()) {
    const auto frames = parse_first_decimal(frames_text);
    if (!frames || *frames < 1 || *frames != std::floor(*frames) || *frames > 1e6) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("DICOM NumberOfFrames '{}' is not a frame count", printable(frames_text)));
    }
    m.frames = static_cast<std::uint64_t>(*frames);
  }
  return m;
}

std::uint64_t frame_bytes(const DicomFrame& f) {
  return std::uint64_t{static_cast<std::uint32_t>(f.width)} * static_cast<std::uint32_t>(f.height) *
         static_cast<std::uint32_t>(f.samples_per_pixel) * static_cast<std::uint32_t>(f.bits_allocated / 8);
}

// What the decoded samples are. GDCM's codecs hand back YCbCr as it is in
// the stream (the header still says YBR_FULL_422); JPEG 2000's YBR_ICT and
// YBR_RCT are undone by OpenJPEG itself.
Photometric to_photometric(gdcm::PhotometricInterpretation::PIType pi, bool encapsulated) {
  using PI = gdcm::PhotometricInterpretation;
  switch (pi) {
    case PI::MONOCHROME1:
      return Photometric::Monochrome1;
    case PI::MONOCHROME2:
      return Photometric::Monochrome2;
    case PI::RGB:
      return Photometric::Rgb;
    case PI::YBR_FULL:
      return Photometric::YbrFull;
    case PI::YBR_FULL_422:
      if (encapsulated) return Photometric::YbrFull;
      break;
    case PI::YBR_ICT:
    case PI::YBR_RCT:
      if (encapsulated) return Photometric::Rgb;
      break;
    default:
      break;
  }
  throw_error(ErrorKind::Unsupported, fmt::format("DICOM photometric interpretation {} in {} pixel data",
                                                  PI::GetPIString(pi), encapsulated ? "compressed" : "uncompressed"));
}

// The fragments holding the first frame: all of them for a single frame;
// for several frames, those before the second Basic Offset Table entry, or
// the first fragment when there is one fragment per frame. Empty when the
// file does not say (GDCM then decodes every frame).
std::vector<std::span<const std::uint8_t>> first_frame_fragments(const DicomFile& file, std::uint64_t frames) {
  if (frames == 1) return file.fragments;
  if (file.fragments.size() == frames) return {file.fragments.front()};
  if (file.offset_table.size() >= 2) {
    std::vector<std::span<const std::uint8_t>> out;
    std::uint64_t offset = 0;  // of each fragment's item header, from the first fragment
    for (const auto& fragment : file.fragments) {
      if (offset >= file.offset_table[1]) break;
      out.push_back(fragment);
      offset += 8 + fragment.size();
    }
    return out;
  }
  return {};
}

// JPEG baseline and extended with 8-bit samples: our own decoder. libjpeg
// converts YCbCr to RGB itself, so colour comes back as RGB.
Image decode_jpeg_frame(const std::vector<std::span<const std::uint8_t>>& fragments, DicomFrame& frame,
                        std::vector<std::uint8_t>& storage, const ImageLimits& limits) {
  for (const auto& fragment : fragments) storage.insert(storage.end(), fragment.begin(), fragment.end());
  Image image = decode_jpeg(storage, limits);
  if (image.width != frame.width || image.height != frame.height || image.channels != frame.samples_per_pixel) {
    throw_error(ErrorKind::BadInput,
                fmt::format("DICOM says {}x{}x{} but its JPEG stream is {}x{}x{}", frame.width, frame.height,
                            frame.samples_per_pixel, image.width, image.height, image.channels));
  }
  return image;
}

// Other compressed syntaxes through GDCM's codecs. Returns the photometric
// interpretation of what they produced.
gdcm::PhotometricInterpretation::PIType decode_with_gdcm(const ImageModule& m, std::uint64_t frames,
                                                         const std::vector<std::span<const std::uint8_t>>& fragments,
                                                         const gdcm::TransferSyntax& ts,
                                                         std::vector<std::uint8_t>& out) {
  gdcm::SmartPointer<gdcm::SequenceOfFragments> sequence = new gdcm::SequenceOfFragments;
  for (const auto& fragment : fragments) {
    gdcm::Fragment f;
    f.SetByteValue(reinterpret_cast<const char*>(fragment.data()), static_cast<std::uint32_t>(fragment.size()));
    sequence->AddFragment(f);
  }
  // No VR: GDCM asserts that an undefined length goes with SQ, UN or none.
  gdcm::DataElement pixels(gdcm::Tag(0x7fe0, 0x0010));
  pixels.SetValue(*sequence);
  pixels.SetVLToUndefined();

  gdcm::Image image;
  image.SetNumberOfDimensions(frames > 1 ? 3 : 2);
  image.SetDimension(0, static_cast<unsigned int>(m.frame.width));
  image.SetDimension(1, static_cast<unsigned int>(m.frame.height));
  if (frames > 1) image.SetDimension(2, static_cast<unsigned int>(frames));
  image.SetPixelFormat(gdcm::PixelFormat(
      static_cast<unsigned short>(m.frame.samples_per_pixel), static_cast<unsigned short>(m.frame.bits_allocated),
      static_cast<unsigned short>(m.frame.bits_stored), m.high_bit, m.frame.is_signed ? 1 : 0));
  image.SetPhotometricInterpretation(m.pi);
  if (m.frame.samples_per_pixel == 3) image.SetPlanarConfiguration(m.frame.planar ? 1 : 0);
  image.SetTransferSyntax(ts);
  image.SetDataElement(pixels);
  out.resize(static_cast<std::size_t>(frame_bytes(m.frame) * frames));
  if (image.GetBufferLength() != out.size()) {
    throw_error(ErrorKind::BadInput, fmt::format("DICOM pixel data sizes disagree: GDCM {} bytes, header {}",
                                                 image.GetBufferLength(), out.size()));
  }
  // GDCM's codecs say only "failed"; say what was given to which codec.
  const auto codec_name = [](const std::string& uid) -> std::string {
    static const std::map<std::string, std::string> kNames = {
        {"1.2.840.10008.1.2.4.50", "JPEG Baseline"},
        {"1.2.840.10008.1.2.4.51", "JPEG Extended"},
        {"1.2.840.10008.1.2.4.57", "JPEG Lossless"},
        {"1.2.840.10008.1.2.4.70", "JPEG Lossless (first-order prediction)"},
        {"1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"},
        {"1.2.840.10008.1.2.4.81", "JPEG-LS Near-Lossless"},
        {"1.2.840.10008.1.2.4.90", "JPEG 2000 Lossless"},
        {"1.2.840.10008.1.2.4.91", "JPEG 2000"},
        {"1.2.840.10008.1.2.5", "RLE Lossless"},
    };
    const auto it = kNames.find(uid);
    return it != kNames.end() ? it->second : "transfer syntax " + uid;
  };
  std::size_t compressed = 0;
  for (const auto& fragment : fragments) compressed += fragment.size();
  const auto failure = [&](const std::string& detail) {
    return fmt::format(
        "cannot decode DICOM pixel data: the {} codec ({}) rejected {} fragment{} ({} bytes) of a "
        "{}x{} image, {} of {} bits per sample{}{}: the compressed data is corrupt or truncated, or "
        "uses a feature the codec lacks",
        codec_name(ts.GetString()), ts.GetString(), fragments.size(), fragments.size() == 1 ? "" : "s", compressed,
        m.frame.width, m.frame.height, m.frame.bits_stored, m.frame.bits_allocated,
        frames > 1 ? fmt::format(", {} frames", frames) : "", detail.empty() ? "" : " (" + detail + ")");
  };
  bool decoded = false;
  try {
    decoded = image.GetBuffer(reinterpret_cast<char*>(out.data()));
  } catch (const std::exception& e) {
    throw_error(ErrorKind::BadInput, failure(e.what()));
  }
  if (!decoded) throw_error(ErrorKind::BadInput, failure(""));
  return image.GetPhotometricInterpretation().GetType();
}

}  // namespace

std::optional<double> parse_first_decimal(std::string_view text) {
  const std::size_t end = text.find('\\');
  std::string_view first = text.substr(0, end);
  while (!first.empty() && (first.front() == ' ' || first.front() == '+')) first.remove_prefix(1);
  while (!first.empty() && (first.back() == ' ' || first.back() == '\0')) first.remove_suffix(1);
  if (first.empty()) return std::nullopt;
  double value = 0;
  const auto [ptr, ec] = std::from_chars(first.data(), first.data() + first.size(), value);
  if (ec != std::errc() || ptr != first.data() + first.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

Image decode_dicom(std::span<const std::uint8_t> data, const ImageLimits& limits) {
  const DicomFile file = parse_dicom(data);
  if (!file.has_pixel_data) throw_error(ErrorKind::BadInput, "DICOM file has no Pixel Data (7FE0,0010)");
  ImageModule m = read_image_module(file, limits);
  DicomFrame& f = m.frame;
  const std::uint64_t one = frame_bytes(f);
  if (m.frames > kMaxDecodedBytes / one) {
    throw_error(ErrorKind::Unsupported, fmt::format("DICOM with {} frames of {}x{} is over the {} byte decoding limit",
                                                    m.frames, f.width, f.height, kMaxDecodedBytes));
  }

  std::vector<std::uint8_t> storage;
  Image jpeg;
  if (!file.encapsulated) {
    if (file.native_pixels.size() < one) {
      throw_error(ErrorKind::BadInput, fmt::format("DICOM Pixel Data has {} bytes, a {}x{} frame needs {}",
                                                   file.native_pixels.size(), f.width, f.height, one));
    }
    f.photometric = to_photometric(m.pi, false);
    f.data = file.native_pixels.first(static_cast<std::size_t>(one));
  } else {
    if (file.fragments.empty()) throw_error(ErrorKind::BadInput, "DICOM encapsulated Pixel Data has no fragments");
    const bool jpeg8 = (file.transfer_syntax == transfer_syntax::kJpegBaseline ||
                        file.transfer_syntax == transfer_syntax::kJpegExtended) &&
                       f.bits_allocated == 8;
    auto fragments = first_frame_fragments(file, m.frames);
    if (jpeg8 && !fragments.empty()) {
      jpeg = decode_jpeg_frame(fragments, f, storage, limits);
      f.photometric = f.samples_per_pixel == 3 ? Photometric::Rgb : to_photometric(m.pi, true);
      f.planar = false;
      f.data = jpeg.pixels;
    } else {
      const auto type = gdcm::TransferSyntax::GetTSType(file.transfer_syntax.c_str());
      const gdcm::TransferSyntax ts(type);
      if (type == gdcm::TransferSyntax::TS_END || !ts.IsEncapsulated()) {
        throw_error(ErrorKind::Unsupported, fmt::format("DICOM transfer syntax {}", printable(file.transfer_syntax)));
      }
      silence_gdcm();
      const std::uint64_t frames = fragments.empty() ? m.frames : 1;
      if (fragments.empty()) fragments = file.fragments;
      f.photometric = to_photometric(decode_with_gdcm(m, frames, fragments, ts, storage), true);
      f.data = std::span<const std::uint8_t>(storage).first(static_cast<std::size_t>(one));
    }
  }
  f.rescale_slope = decimal_attribute(file, kRescaleSlope, "RescaleSlope").value_or(1.0);
  f.rescale_intercept = decimal_attribute(file, kRescaleIntercept, "RescaleIntercept").value_or(0.0);
  f.window = read_window(file);
  return dicom_frame_to_image(f);
}

}  // namespace pt2onnx::vision
