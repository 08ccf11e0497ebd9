#include "vision/sample_images.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/random.h"

namespace pt2onnx::vision {
namespace {

// Intensity in [0, 1] of a synthetic scan: a vertical gradient, an elliptical
// bright region, soft Gaussian masses placed by the seed, and grain.
std::vector<double> scan(int width, int height, std::uint64_t seed) {
  Random rng(seed);
  struct Mass {
    double x, y, radius, weight;
  };
  std::vector<Mass> masses(3 + seed % 3);
  for (auto& m : masses) {
    m = {rng.uniform() * width, rng.uniform() * height, (0.04 + 0.1 * rng.uniform()) * std::min(width, height),
         0.3 + 0.5 * rng.uniform()};
  }
  std::vector<double> out(static_cast<std::size_t>(width) * static_cast<std::size_t>(height));
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const double u = (x + 0.5) / width - 0.35, v = (y + 0.5) / height - 0.5;
      double value = 0.08 + 0.12 * (y + 0.5) / height;
      value += 0.35 * std::exp(-(u * u / 0.09 + v * v / 0.16));
      for (const auto& m : masses) {
        const double dx = x - m.x, dy = y - m.y;
        value += m.weight * std::exp(-(dx * dx + dy * dy) / (2.0 * m.radius * m.radius));
      }
      value += 0.03 * rng.normal();
      out[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)] =
          std::clamp(value, 0.0, 1.0);
    }
  }
  return out;
}

std::uint8_t level8(double t) { return static_cast<std::uint8_t>(std::lround(t * 255.0)); }

// `channels` interleaved 8-bit samples: gray repeated, with a faint tint in
// colour so that the three channels differ as in a photographed film; alpha
// (the fourth) opaque in the middle, fading out at the left edge.
Bytes pixels8(const std::vector<double>& intensity, int width, int channels) {
  Bytes out;
  out.reserve(intensity.size() * static_cast<std::size_t>(channels));
  for (std::size_t i = 0; i < intensity.size(); ++i) {
    const double t = intensity[i];
    if (channels == 1) {
      out.push_back(level8(t));
      continue;
    }
    out.push_back(level8(std::min(1.0, t * 1.04)));
    out.push_back(level8(t));
    out.push_back(level8(t * 0.93));
    if (channels == 4) {
      const auto x = static_cast<int>(i % static_cast<std::size_t>(width));
      out.push_back(level8(std::min(1.0, 0.2 + 4.0 * x / width)));
    }
  }
  return out;
}

SampleImage jpeg(int index, int width, int height, int components) {
  const auto intensity = scan(width, height, static_cast<std::uint64_t>(index));
  return {fmt::format("sample_{}_{}.jpg", index, components == 1 ? "gray" : "rgb"),
          fmt::format("JPEG, {}, {}x{}", components == 1 ? "grayscale" : "RGB", width, height),
          encode_jpeg(width, height, components, pixels8(intensity, width, components), 92)};
}

SampleImage png(int index, int width, int height, int channels) {
  static constexpr std::uint8_t kColorType[] = {0, 0, 0, 2, 6};  // by channel count: gray, -, -, RGB, RGBA
  static constexpr const char* kMode[] = {"", "gray", "", "rgb", "rgba"};
  static constexpr const char* kModeText[] = {"", "grayscale", "", "RGB", "RGBA"};
  const auto intensity = scan(width, height, static_cast<std::uint64_t>(index));
  return {fmt::format("sample_{}_{}.png", index, kMode[channels]),
          fmt::format("PNG, {}, {}x{}", kModeText[channels], width, height),
          encode_png(static_cast<std::uint32_t>(width), static_cast<std::uint32_t>(height), kColorType[channels], 8,
                     pixels8(intensity, width, channels))};
}

// 12 bits stored in 16, MONOCHROME2, with a rescale and a VOI window that
// leave the darkest and brightest values clipped, as a display window does.
SampleImage dicom(int index, int width, int height) {
  const auto intensity = scan(width, height, static_cast<std::uint64_t>(index));
  std::vector<std::int32_t> stored(intensity.size());
  for (std::size_t i = 0; i < stored.size(); ++i)
    stored[i] = static_cast<std::int32_t>(std::lround(intensity[i] * 4095));
  DicomWriter w;
  w.image_header(width, height, 16, 12, false);
  w.text(0x0028, 0x1050, "DS", "1900");  // WindowCenter
  w.text(0x0028, 0x1051, "DS", "3200");  // WindowWidth
  w.text(0x0028, 0x1052, "DS", "-100");  // RescaleIntercept
  w.text(0x0028, 0x1053, "DS", "1");     // RescaleSlope
  w.pixel_data(little_endian16(stored), true);
  return {fmt::format("sample_{}_mono12.dcm", index),
          fmt::format("DICOM, MONOCHROME2, 12 of 16 bits, windowed, {}x{}", width, height), w.finish()};
}

}  // namespace

std::vector<SampleImage> sample_images() {
  std::vector<SampleImage> out;
  out.push_back(jpeg(1, 517, 389, 3));
  out.push_back(jpeg(2, 389, 517, 1));
  out.push_back(png(3, 640, 480, 3));
  out.push_back(png(4, 301, 257, 4));
  out.push_back(png(5, 250, 333, 1));
  out.push_back(dicom(6, 480, 600));
  return out;
}

}  // namespace pt2onnx::vision
