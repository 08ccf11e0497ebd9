#include "vision/preprocess_metadata.h"

#include <charconv>
#include <cmath>
#include <vector>

#include <fmt/format.h>

namespace pt2onnx::vision {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool parse_int(std::string_view s, int& out) {
  s = trim(s);
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size() && !s.empty();
}

bool parse_double(std::string_view s, double& out) {
  s = trim(s);
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size() && !s.empty() && std::isfinite(out);
}

constexpr int kMaxSide = 1 << 15;

int parse_side(std::string_view s, std::string_view whole, ErrorKind kind) {
  int v = 0;
  if (!parse_int(s, v) || v <= 0 || v > kMaxSide) {
    throw_error(kind, fmt::format("'{}' is not a size (expected N or HxW with sides in 1..{})", whole, kMaxSide));
  }
  return v;
}

const std::string* find(const std::map<std::string, std::string>& m, const char* key) {
  const auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

}  // namespace

Size2 parse_size(std::string_view text, ErrorKind kind) {
  const std::size_t x = text.find_first_of("xX");
  if (x == std::string_view::npos) {
    throw_error(kind, fmt::format("'{}' is not a size (expected HxW, as 224x224)", text));
  }
  return Size2{parse_side(text.substr(0, x), text, kind), parse_side(text.substr(x + 1), text, kind)};
}

ResizeSpec parse_resize(std::string_view text, ErrorKind kind) {
  ResizeSpec r;
  if (text.find_first_of("xX") != std::string_view::npos) {
    r.mode = ResizeSpec::Mode::Exact;
    r.size = parse_size(text, kind);
  } else {
    r.mode = ResizeSpec::Mode::ShorterSide;
    r.shorter_side = parse_side(text, text, kind);
  }
  return r;
}

std::optional<Size2> parse_crop(std::string_view text, ErrorKind kind) {
  const std::string_view t = trim(text);
  if (t.empty() || t == "none") return std::nullopt;
  if (t.find_first_of("xX") != std::string_view::npos) return parse_size(t, kind);
  const int side = parse_side(t, text, kind);
  return Size2{side, side};
}

Interpolation parse_interpolation(std::string_view text, ErrorKind kind) {
  const auto i = interpolation_from_name(trim(text));
  if (!i) throw_error(kind, fmt::format("'{}' is not an interpolation (nearest, bilinear or bicubic)", text));
  return *i;
}

std::array<float, 3> parse_triplet(std::string_view text, ErrorKind kind) {
  std::array<float, 3> out{};
  std::size_t start = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    const std::size_t comma = text.find(',', start);
    const bool last = i == 2;
    if (last != (comma == std::string_view::npos)) {
      throw_error(kind, fmt::format("'{}' is not three comma-separated numbers", text));
    }
    const std::string_view part = text.substr(start, last ? std::string_view::npos : comma - start);
    double v = 0;
    if (!parse_double(part, v)) throw_error(kind, fmt::format("'{}' is not three comma-separated numbers", text));
    // torch.as_tensor(list, dtype=float32) rounds each double to float.
    out[i] = static_cast<float>(v);
    start = comma + 1;
  }
  return out;
}

PreprocessSpec apply_flags(PreprocessSpec spec, const PreprocessFlags& flags) {
  constexpr ErrorKind kFlag = ErrorKind::Usage;
  if (flags.resize) spec.resize = with_error_context("--resize", [&] { return parse_resize(*flags.resize, kFlag); });
  if (flags.crop) spec.crop = with_error_context("--crop", [&] { return parse_crop(*flags.crop, kFlag); });
  if (flags.interpolation) {
    spec.interpolation =
        with_error_context("--interpolation", [&] { return parse_interpolation(*flags.interpolation, kFlag); });
  }
  if (flags.mean) spec.mean = with_error_context("--mean", [&] { return parse_triplet(*flags.mean, kFlag); });
  if (flags.std) {
    spec.std = with_error_context("--std", [&] {
      const auto std = parse_triplet(*flags.std, kFlag);
      for (const float s : std) {
        if (!(s > 0.0f)) throw_error(kFlag, fmt::format("'{}': each std must be positive", *flags.std));
      }
      return std;
    });
  }
  return spec;
}

PreprocessSpec preprocess_spec_from_metadata(const std::map<std::string, std::string>& metadata) {
  namespace k = metadata_keys;
  PreprocessSpec spec;
  const auto field = [&](const char* key, auto&& parse) {
    if (const std::string* v = find(metadata, key)) {
      with_error_context(fmt::format("model metadata {}", key), [&] { parse(*v); });
    }
  };
  field(k::kInputSize, [&](const std::string& v) {
    spec.resize.mode = ResizeSpec::Mode::Exact;
    spec.resize.size = parse_size(v, ErrorKind::BadInput);
  });
  field(k::kResize, [&](const std::string& v) { spec.resize = parse_resize(v, ErrorKind::BadInput); });
  field(k::kCrop, [&](const std::string& v) { spec.crop = parse_crop(v, ErrorKind::BadInput); });
  field(k::kInterpolation,
        [&](const std::string& v) { spec.interpolation = parse_interpolation(v, ErrorKind::BadInput); });
  field(k::kMean, [&](const std::string& v) { spec.mean = parse_triplet(v, ErrorKind::BadInput); });
  field(k::kStd, [&](const std::string& v) { spec.std = parse_triplet(v, ErrorKind::BadInput); });
  field(k::kColor, [&](const std::string& v) {
    if (trim(v) != "RGB") throw_error(ErrorKind::Unsupported, fmt::format("colour '{}' (RGB is supported)", v));
  });
  with_error_context("model metadata", [&] {
    // A zero std from metadata is a broken file, not a usage error.
    try {
      validate(spec);
    } catch (const Error& e) {
      throw Error(ErrorKind::BadInput, e.message());
    }
  });
  return spec;
}

std::map<std::string, std::string> preprocess_metadata(const PreprocessSpec& spec) {
  namespace k = metadata_keys;
  const auto size = [](Size2 s) { return fmt::format("{}x{}", s.height, s.width); };
  // fmt's shortest round-trip form: "0.485", never "0.48500001".
  const auto triplet = [](const std::array<float, 3>& v) { return fmt::format("{},{},{}", v[0], v[1], v[2]); };
  std::map<std::string, std::string> m;
  m[k::kResize] = spec.resize.mode == ResizeSpec::Mode::ShorterSide ? std::to_string(spec.resize.shorter_side)
                                                                    : size(spec.resize.size);
  m[k::kCrop] = spec.crop ? size(*spec.crop) : std::string("none");
  m[k::kInterpolation] = std::string(interpolation_name(spec.interpolation));
  m[k::kMean] = triplet(spec.mean);
  m[k::kStd] = triplet(spec.std);
  m[k::kColor] = "RGB";
  return m;
}

}  // namespace pt2onnx::vision
