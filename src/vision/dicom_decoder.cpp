#include "vision/dicom_decoder.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <istream>
#include <mutex>
#include <streambuf>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gdcmDataSet.h>
#include <gdcmFileMetaInformation.h>
#include <gdcmImage.h>
#include <gdcmReader.h>
#include <gdcmTrace.h>

#include "common/error.h"
#include "vision/dicom_pixels.h"

// Why not gdcm::ImageReader: Debian's GDCM keeps its assert()s and abort()s,
// and ImageReader's interpretation of the image module (palettes, icons,
// overlays, odd photometric strings) reaches them on malformed files, which
// would kill a whole inference run. So GDCM only parses the dataset and runs
// the codecs of compressed transfer syntaxes; the image attributes are read
// and checked here, and uncompressed pixel data is used as it is.

namespace pt2onnx::vision {
namespace {

// Decoding every frame of a large multi-frame file (tomosynthesis) at once
// could take gigabytes: GDCM's codecs decode whole pixel data elements.
constexpr std::uint64_t kMaxDecodedBytes = std::uint64_t{1} << 31;

const gdcm::Tag kSamplesPerPixel(0x0028, 0x0002);
const gdcm::Tag kPhotometric(0x0028, 0x0004);
const gdcm::Tag kPlanarConfiguration(0x0028, 0x0006);
const gdcm::Tag kNumberOfFrames(0x0028, 0x0008);
const gdcm::Tag kRows(0x0028, 0x0010);
const gdcm::Tag kColumns(0x0028, 0x0011);
const gdcm::Tag kBitsAllocated(0x0028, 0x0100);
const gdcm::Tag kBitsStored(0x0028, 0x0101);
const gdcm::Tag kHighBit(0x0028, 0x0102);
const gdcm::Tag kPixelRepresentation(0x0028, 0x0103);
const gdcm::Tag kWindowCenter(0x0028, 0x1050);
const gdcm::Tag kWindowWidth(0x0028, 0x1051);
const gdcm::Tag kRescaleIntercept(0x0028, 0x1052);
const gdcm::Tag kRescaleSlope(0x0028, 0x1053);
const gdcm::Tag kVoiLutFunction(0x0028, 0x1056);
const gdcm::Tag kPixelData(0x7fe0, 0x0010);

// A read-only std::streambuf over bytes we already hold, seekable as GDCM
// needs. It also notices a read that the data ends in the middle of: GDCM
// accepts an element cut short by the end of the file ("Incomplete Pixel
// Data", padded silently), which for us is a truncated file.
class MemoryBuffer : public std::streambuf {
 public:
  explicit MemoryBuffer(std::span<const std::uint8_t> data) {
    // std::streambuf wants char*; the bytes are never written through it.
    char* begin = const_cast<char*>(reinterpret_cast<const char*>(data.data()));
    setg(begin, begin, begin + data.size());
  }

  // Set when a read got some but not all of its bytes, or none of a value
  // larger than a tag (reading the next tag at the end of a file is normal).
  [[nodiscard]] bool cut_short() const { return cut_short_; }

 protected:
  std::streamsize xsgetn(char* s, std::streamsize n) override {
    const std::streamsize got = std::min(n, static_cast<std::streamsize>(egptr() - gptr()));
    std::copy(gptr(), gptr() + got, s);
    setg(eback(), gptr() + got, egptr());
    if (got < n && (got > 0 || n > kLargestTagRead)) cut_short_ = true;
    return got;
  }
  pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode which) override {
    if ((which & std::ios_base::in) == 0) return pos_type(off_type(-1));
    off_type base = 0;
    if (dir == std::ios_base::cur) base = gptr() - eback();
    if (dir == std::ios_base::end) base = egptr() - eback();
    const off_type target = base + off;
    if (target < 0 || target > egptr() - eback()) return pos_type(off_type(-1));
    setg(eback(), eback() + target, egptr());
    return pos_type(target);
  }
  pos_type seekpos(pos_type pos, std::ios_base::openmode which) override {
    return seekoff(off_type(pos), std::ios_base::beg, which);
  }

 private:
  // GDCM reads a tag, VR and length in pieces of at most 8 bytes.
  static constexpr std::streamsize kLargestTagRead = 8;
  bool cut_short_ = false;
};

// GDCM reports problems on std::cerr by default; ours go into the Error.
void silence_gdcm() {
  static std::once_flag once;
  std::call_once(once, [] {
    gdcm::Trace::SetDebug(false);
    gdcm::Trace::SetWarning(false);
    gdcm::Trace::SetError(false);
  });
}

const gdcm::ByteValue* byte_value(const gdcm::DataSet& ds, const gdcm::Tag& tag) {
  if (!ds.FindDataElement(tag)) return nullptr;
  const gdcm::ByteValue* bv = ds.GetDataElement(tag).GetByteValue();
  if (bv == nullptr || bv->GetPointer() == nullptr || bv->GetLength() == 0) return nullptr;
  return bv;
}

// A string attribute without its padding; "" when absent.
std::string text_attribute(const gdcm::DataSet& ds, const gdcm::Tag& tag) {
  const gdcm::ByteValue* bv = byte_value(ds, tag);
  if (bv == nullptr) return {};
  std::string s(bv->GetPointer(), bv->GetLength());
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  return s;
}

// An unsigned short (US) attribute of a little-endian dataset.
std::optional<std::uint16_t> us_attribute(const gdcm::DataSet& ds, const gdcm::Tag& tag, const char* name) {
  const gdcm::ByteValue* bv = byte_value(ds, tag);
  if (bv == nullptr) return std::nullopt;
  if (bv->GetLength() < 2) {
    throw_error(ErrorKind::BadInput, fmt::format("DICOM {} has {} bytes, not 2", name, bv->GetLength()));
  }
  const auto* p = reinterpret_cast<const std::uint8_t*>(bv->GetPointer());
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}

std::uint16_t required_us(const gdcm::DataSet& ds, const gdcm::Tag& tag, const char* name) {
  const auto v = us_attribute(ds, tag, name);
  if (!v) throw_error(ErrorKind::BadInput, fmt::format("DICOM {} is missing", name));
  return *v;
}

// An optional numeric attribute: absent is fine, present but unreadable is not.
std::optional<double> decimal_attribute(const gdcm::DataSet& ds, const gdcm::Tag& tag, const char* name) {
  const std::string text = text_attribute(ds, tag);
  if (text.find_first_not_of(" \\") == std::string::npos) return std::nullopt;
  const auto value = parse_first_decimal(text);
  if (!value) throw_error(ErrorKind::BadInput, fmt::format("DICOM {} '{}' is not a number", name, text));
  return value;
}

std::optional<VoiWindow> read_window(const gdcm::DataSet& ds) {
  // An unreadable window counts as absent (full range), as a viewer would
  // show such an image; a bad rescale is an error, since it decides what is bright.
  std::optional<double> center;
  std::optional<double> width;
  try {
    center = decimal_attribute(ds, kWindowCenter, "WindowCenter");
    width = decimal_attribute(ds, kWindowWidth, "WindowWidth");
  } catch (const Error&) {
    return std::nullopt;
  }
  if (!center || !width) return std::nullopt;
  VoiWindow window{*center, *width, VoiFunction::Linear};
  const std::string function = text_attribute(ds, kVoiLutFunction);
  if (function == "LINEAR_EXACT") window.function = VoiFunction::LinearExact;
  if (function == "SIGMOID") window.function = VoiFunction::Sigmoid;
  return window;
}

// The header's image description, checked before GDCM sees any of it.
struct ImageModule {
  DicomFrame frame;
  std::uint64_t frames = 1;
  std::uint16_t high_bit = 0;
  gdcm::PhotometricInterpretation::PIType pi = gdcm::PhotometricInterpretation::MONOCHROME2;
};

ImageModule read_image_module(const gdcm::DataSet& ds, const ImageLimits& limits) {
  ImageModule m;
  DicomFrame& f = m.frame;
  const std::uint16_t rows = required_us(ds, kRows, "Rows");
  const std::uint16_t columns = required_us(ds, kColumns, "Columns");
  check_image_size(columns, rows, limits);
  f.width = columns;
  f.height = rows;
  f.samples_per_pixel = us_attribute(ds, kSamplesPerPixel, "SamplesPerPixel").value_or(1);
  f.bits_allocated = required_us(ds, kBitsAllocated, "BitsAllocated");
  f.bits_stored = us_attribute(ds, kBitsStored, "BitsStored").value_or(static_cast<std::uint16_t>(f.bits_allocated));
  m.high_bit = us_attribute(ds, kHighBit, "HighBit").value_or(static_cast<std::uint16_t>(f.bits_stored - 1));
  f.is_signed = us_attribute(ds, kPixelRepresentation, "PixelRepresentation").value_or(0) == 1;
  f.planar = us_attribute(ds, kPlanarConfiguration, "PlanarConfiguration").value_or(0) == 1;
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

  const std::string pi = text_attribute(ds, kPhotometric);
  using PI = gdcm::PhotometricInterpretation;
  if (pi.empty() && f.samples_per_pixel == 1) {
    m.pi = PI::MONOCHROME2;
  } else if (pi == "MONOCHROME1" || pi == "MONOCHROME2") {
    m.pi = pi == "MONOCHROME1" ? PI::MONOCHROME1 : PI::MONOCHROME2;
  } else if (pi == "RGB" || pi == "YBR_FULL" || pi == "YBR_FULL_422" || pi == "YBR_ICT" || pi == "YBR_RCT") {
    m.pi = PI::GetPIType(pi.c_str());
  } else {
    throw_error(ErrorKind::Unsupported,
                fmt::format("DICOM photometric interpretation '{}' (MONOCHROME1, MONOCHROME2, RGB and YBR are "
                            "supported)",
                            pi));
  }
  const bool gray = m.pi == PI::MONOCHROME1 || m.pi == PI::MONOCHROME2;
  if (gray != (f.samples_per_pixel == 1)) {
    throw_error(ErrorKind::BadInput, fmt::format("DICOM SamplesPerPixel {} does not fit photometric interpretation {}",
                                                 f.samples_per_pixel, pi));
  }

  const std::string frames_text = text_attribute(ds, kNumberOfFrames);
  if (!frames_text.empty()) {
    const auto frames = parse_first_decimal(frames_text);
    if (!frames || *frames < 1 || *frames != std::floor(*frames) || *frames > 1e6) {
      throw_error(ErrorKind::BadInput, fmt::format("DICOM NumberOfFrames '{}' is not a frame count", frames_text));
    }
    m.frames = static_cast<std::uint64_t>(*frames);
  }
  return m;
}

std::uint64_t frame_bytes(const DicomFrame& f) {
  return std::uint64_t{static_cast<std::uint32_t>(f.width)} * static_cast<std::uint32_t>(f.height) *
         static_cast<std::uint32_t>(f.samples_per_pixel) * static_cast<std::uint32_t>(f.bits_allocated / 8);
}

// Compressed pixel data through GDCM's codecs; returns the photometric
// interpretation of what they produced (JPEG's YCbCr comes back as RGB).
gdcm::PhotometricInterpretation::PIType decode_encapsulated(const ImageModule& m, const gdcm::DataElement& pixels,
                                                            const gdcm::TransferSyntax& ts,
                                                            std::vector<std::uint8_t>& out) {
  gdcm::Image image;
  image.SetNumberOfDimensions(m.frames > 1 ? 3 : 2);
  image.SetDimension(0, static_cast<unsigned int>(m.frame.width));
  image.SetDimension(1, static_cast<unsigned int>(m.frame.height));
  if (m.frames > 1) image.SetDimension(2, static_cast<unsigned int>(m.frames));
  image.SetPixelFormat(gdcm::PixelFormat(
      static_cast<unsigned short>(m.frame.samples_per_pixel), static_cast<unsigned short>(m.frame.bits_allocated),
      static_cast<unsigned short>(m.frame.bits_stored), m.high_bit, m.frame.is_signed ? 1 : 0));
  image.SetPhotometricInterpretation(m.pi);
  if (m.frame.samples_per_pixel == 3) image.SetPlanarConfiguration(m.frame.planar ? 1 : 0);
  image.SetTransferSyntax(ts);
  image.SetDataElement(pixels);
  if (image.GetBufferLength() != out.size()) {
    throw_error(ErrorKind::BadInput, fmt::format("DICOM pixel data sizes disagree: GDCM {} bytes, header {}",
                                                 image.GetBufferLength(), out.size()));
  }
  bool decoded = false;
  try {
    decoded = image.GetBuffer(reinterpret_cast<char*>(out.data()));
  } catch (const std::exception& e) {
    throw_error(ErrorKind::BadInput, fmt::format("cannot decode DICOM pixel data ({}): {}", ts.GetString(), e.what()));
  }
  if (!decoded) throw_error(ErrorKind::BadInput, fmt::format("cannot decode DICOM pixel data ({})", ts.GetString()));
  return image.GetPhotometricInterpretation().GetType();
}

// What the decoded samples are. GDCM's JPEG codec hands back YCbCr as it
// is in the stream (the header still says YBR_FULL_422), so it gets the
// YBR_FULL conversion here; JPEG 2000's YBR_ICT and YBR_RCT are undone by
// OpenJPEG itself.
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
  silence_gdcm();
  MemoryBuffer buffer(data);
  std::istream stream(&buffer);
  gdcm::Reader reader;
  reader.SetStream(stream);
  bool read_ok = false;
  try {
    read_ok = reader.Read();
  } catch (const std::exception& e) {
    throw_error(ErrorKind::BadInput, fmt::format("cannot parse DICOM: {}", e.what()));
  }
  if (!read_ok) throw_error(ErrorKind::BadInput, "cannot parse DICOM (malformed or truncated dataset)");
  if (buffer.cut_short()) throw_error(ErrorKind::BadInput, "DICOM file is truncated (an element runs past its end)");
  const gdcm::DataSet& ds = reader.GetFile().GetDataSet();
  const gdcm::TransferSyntax& ts = reader.GetFile().GetHeader().GetDataSetTransferSyntax();
  if (!ds.FindDataElement(kPixelData)) throw_error(ErrorKind::BadInput, "DICOM file has no Pixel Data (7FE0,0010)");

  ImageModule m = read_image_module(ds, limits);
  const std::uint64_t one = frame_bytes(m.frame);
  if (m.frames > kMaxDecodedBytes / one) {
    throw_error(ErrorKind::Unsupported, fmt::format("DICOM with {} frames of {}x{} is over the {} byte decoding limit",
                                                    m.frames, m.frame.width, m.frame.height, kMaxDecodedBytes));
  }
  const gdcm::DataElement& pixels = ds.GetDataElement(kPixelData);
  std::vector<std::uint8_t> decoded;
  std::span<const std::uint8_t> first_frame;
  using TS = gdcm::TransferSyntax;
  const bool native_little_endian =
      ts == TS::ImplicitVRLittleEndian || ts == TS::ExplicitVRLittleEndian || ts == TS::DeflatedExplicitVRLittleEndian;
  Photometric photometric;
  if (native_little_endian) {
    // Uncompressed: the first frame's bytes are at the start of the element.
    const gdcm::ByteValue* bv = pixels.GetByteValue();
    const std::uint64_t have =
        bv != nullptr && bv->GetPointer() != nullptr ? static_cast<std::uint64_t>(bv->GetLength()) : 0;
    if (have < one) {
      throw_error(ErrorKind::BadInput, fmt::format("DICOM Pixel Data has {} bytes, a {}x{} frame needs {}", have,
                                                   m.frame.width, m.frame.height, one));
    }
    first_frame = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bv->GetPointer()), one);
    photometric = to_photometric(m.pi, false);
  } else if (ts.IsEncapsulated()) {
    decoded.resize(static_cast<std::size_t>(one * m.frames));
    photometric = to_photometric(decode_encapsulated(m, pixels, ts, decoded), true);
    first_frame = std::span<const std::uint8_t>(decoded.data(), one);
  } else {
    throw_error(ErrorKind::Unsupported, fmt::format("DICOM transfer syntax {}", ts.GetString()));
  }

  DicomFrame& f = m.frame;
  f.photometric = photometric;
  f.rescale_slope = decimal_attribute(ds, kRescaleSlope, "RescaleSlope").value_or(1.0);
  f.rescale_intercept = decimal_attribute(ds, kRescaleIntercept, "RescaleIntercept").value_or(0.0);
  f.window = read_window(ds);
  f.data = first_frame;
  return dicom_frame_to_image(f);
}

}  // namespace pt2onnx::vision
