#include "vision/dicom_decoder.h"

#include <charconv>
#include <cmath>
#include <istream>
#include <mutex>
#include <streambuf>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gdcmDataSet.h>
#include <gdcmImage.h>
#include <gdcmImageReader.h>
#include <gdcmTrace.h>

#include "common/error.h"
#include "vision/dicom_pixels.h"

namespace pt2onnx::vision {
namespace {

// Decoding every frame of a large multi-frame file (tomosynthesis) at once
// could take gigabytes; GDCM has no cheap first-frame-only path for all codecs.
constexpr std::uint64_t kMaxDecodedBytes = std::uint64_t{1} << 31;

const gdcm::Tag kPixelData(0x7fe0, 0x0010);
const gdcm::Tag kWindowCenter(0x0028, 0x1050);
const gdcm::Tag kWindowWidth(0x0028, 0x1051);
const gdcm::Tag kRescaleIntercept(0x0028, 0x1052);
const gdcm::Tag kRescaleSlope(0x0028, 0x1053);
const gdcm::Tag kVoiLutFunction(0x0028, 0x1056);

// A read-only std::streambuf over bytes we already hold, seekable as GDCM needs.
class MemoryBuffer : public std::streambuf {
 public:
  explicit MemoryBuffer(std::span<const std::uint8_t> data) {
    // std::streambuf wants char*; the bytes are never written through it.
    char* begin = const_cast<char*>(reinterpret_cast<const char*>(data.data()));
    setg(begin, begin, begin + data.size());
  }

 protected:
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

std::string element_text(const gdcm::DataSet& ds, const gdcm::Tag& tag) {
  if (!ds.FindDataElement(tag)) return {};
  const gdcm::DataElement& de = ds.GetDataElement(tag);
  const gdcm::ByteValue* bv = de.GetByteValue();
  if (bv == nullptr || bv->GetPointer() == nullptr) return {};
  return std::string(bv->GetPointer(), bv->GetLength());
}

// An optional numeric attribute: absent is fine, present but unreadable is not.
std::optional<double> decimal_attribute(const gdcm::DataSet& ds, const gdcm::Tag& tag, const char* name) {
  const std::string text = element_text(ds, tag);
  if (text.find_first_not_of(" \\") == std::string::npos) return std::nullopt;  // absent or empty
  const auto value = parse_first_decimal(text);
  if (!value) throw_error(ErrorKind::BadInput, fmt::format("DICOM {} '{}' is not a number", name, text));
  return value;
}

Photometric photometric_from(const gdcm::PhotometricInterpretation& pi) {
  switch (pi.GetType()) {
    case gdcm::PhotometricInterpretation::MONOCHROME1: return Photometric::Monochrome1;
    case gdcm::PhotometricInterpretation::MONOCHROME2: return Photometric::Monochrome2;
    case gdcm::PhotometricInterpretation::RGB: return Photometric::Rgb;
    case gdcm::PhotometricInterpretation::YBR_FULL: return Photometric::YbrFull;
    default:
      throw_error(ErrorKind::Unsupported,
                  fmt::format("DICOM photometric interpretation {} (MONOCHROME1, MONOCHROME2, RGB and YBR_FULL "
                              "are supported)",
                              gdcm::PhotometricInterpretation::GetPIString(pi.GetType())));
  }
}

std::optional<VoiWindow> read_window(const gdcm::DataSet& ds) {
  // A window that cannot be read is treated as absent (full range), since a
  // viewer would show such an image too; a bad rescale is an error because it
  // changes which pixels are bright.
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
  std::string function = element_text(ds, kVoiLutFunction);
  while (!function.empty() && (function.back() == ' ' || function.back() == '\0')) function.pop_back();
  if (function == "LINEAR_EXACT") window.function = VoiFunction::LinearExact;
  if (function == "SIGMOID") window.function = VoiFunction::Sigmoid;
  return window;
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
  gdcm::ImageReader reader;
  reader.SetStream(stream);
  bool read_ok = false;
  try {
    read_ok = reader.Read();
  } catch (const std::exception& e) {
    throw_error(ErrorKind::BadInput, fmt::format("cannot read DICOM: {}", e.what()));
  }
  const gdcm::DataSet& ds = reader.GetFile().GetDataSet();
  if (!read_ok) {
    if (!ds.FindDataElement(kPixelData)) throw_error(ErrorKind::BadInput, "DICOM file has no Pixel Data (7FE0,0010)");
    throw_error(ErrorKind::BadInput, "cannot read DICOM: GDCM rejects the file or its pixel data");
  }
  const gdcm::Image& image = reader.GetImage();
  const unsigned int* dims = image.GetDimensions();
  const unsigned int ndims = image.GetNumberOfDimensions();
  if (dims == nullptr || ndims < 2) throw_error(ErrorKind::BadInput, "DICOM image has no Rows and Columns");
  check_image_size(dims[0], dims[1], limits);
  const std::uint64_t frames = ndims >= 3 ? std::max(1u, dims[2]) : 1;

  const gdcm::PixelFormat& pf = image.GetPixelFormat();
  DicomFrame frame;
  frame.width = static_cast<int>(dims[0]);
  frame.height = static_cast<int>(dims[1]);
  frame.samples_per_pixel = pf.GetSamplesPerPixel();
  frame.bits_allocated = pf.GetBitsAllocated();
  frame.bits_stored = pf.GetBitsStored();
  frame.is_signed = pf.GetPixelRepresentation() == 1;
  if (pf.GetHighBit() + 1 != pf.GetBitsStored()) {
    throw_error(ErrorKind::Unsupported, fmt::format("DICOM HighBit {} with BitsStored {} (HighBit = BitsStored - 1 "
                                                    "is supported)",
                                                    pf.GetHighBit(), pf.GetBitsStored()));
  }
  if (frame.bits_allocated != 8 && frame.bits_allocated != 16) {
    throw_error(ErrorKind::Unsupported,
                fmt::format("DICOM BitsAllocated {} (8 and 16 are supported)", frame.bits_allocated));
  }
  const std::uint64_t frame_bytes = std::uint64_t{dims[0]} * dims[1] *
                                    static_cast<std::uint64_t>(frame.samples_per_pixel) *
                                    static_cast<std::uint64_t>(frame.bits_allocated / 8);
  if (frame_bytes == 0 || frames > kMaxDecodedBytes / frame_bytes) {
    throw_error(ErrorKind::Unsupported, fmt::format("DICOM with {} frames of {}x{} is over the {} byte decoding limit",
                                                    frames, dims[0], dims[1], kMaxDecodedBytes));
  }
  const std::uint64_t total = frame_bytes * frames;
  if (image.GetBufferLength() != total) {
    throw_error(ErrorKind::BadInput, fmt::format("DICOM pixel data sizes disagree: GDCM {} bytes, header {}",
                                                 image.GetBufferLength(), total));
  }
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(total));
  bool decoded = false;
  try {
    decoded = image.GetBuffer(reinterpret_cast<char*>(pixels.data()));
  } catch (const std::exception& e) {
    throw_error(ErrorKind::BadInput, fmt::format("cannot decode DICOM pixel data: {}", e.what()));
  }
  if (!decoded) {
    throw_error(ErrorKind::BadInput, fmt::format("cannot decode DICOM pixel data (transfer syntax {})",
                                                 image.GetTransferSyntax().GetString()));
  }
  // Read after decoding: a codec (JPEG's YCbCr, JPEG 2000's ICT) may have
  // changed the photometric interpretation of what it returned.
  frame.photometric = photometric_from(image.GetPhotometricInterpretation());
  frame.planar = image.GetPlanarConfiguration() == 1;
  const auto slope = decimal_attribute(ds, kRescaleSlope, "RescaleSlope");
  const auto intercept = decimal_attribute(ds, kRescaleIntercept, "RescaleIntercept");
  frame.rescale_slope = slope.value_or(1.0);
  frame.rescale_intercept = intercept.value_or(0.0);
  frame.window = read_window(ds);
  frame.data = std::span<const std::uint8_t>(pixels.data(), static_cast<std::size_t>(frame_bytes));
  return dicom_frame_to_image(frame);
}

}  // namespace pt2onnx::vision
