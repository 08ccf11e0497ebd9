#include "verify/probes.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include <fmt/format.h>

#include "common/random.h"

namespace pt2onnx::verify {
namespace {

Tensor filled(Shape shape, const std::function<float()>& next) {
  Tensor t(DType::Float32, std::move(shape));
  for (auto& v : t.f32()) v = next();
  return t;
}

// Shading: a coarse grid of random colours, bilinearly interpolated.
constexpr int kGrid = 5;
constexpr int kShapes = 5;
constexpr double kNoiseLevels = 3.0;  // sensor noise, in 8-bit levels

}  // namespace

Tensor image_like(std::int64_t channels, std::int64_t size, const Normalization& normalization, std::uint64_t seed) {
  Random random(seed);
  const auto c_count = static_cast<std::size_t>(channels);
  std::vector<double> grid(static_cast<std::size_t>(kGrid * kGrid) * c_count);
  for (auto& v : grid) v = 20.0 + 215.0 * random.uniform();
  struct Ellipse {
    double cy, cx, ry, rx;
    std::vector<double> colour;
  };
  std::vector<Ellipse> shapes;
  const auto extent = static_cast<double>(size);
  for (int s = 0; s < kShapes; ++s) {
    Ellipse e{extent * random.uniform(), extent * random.uniform(), extent * (0.05 + 0.2 * random.uniform()),
              extent * (0.05 + 0.2 * random.uniform()), std::vector<double>(c_count)};
    for (auto& v : e.colour) v = 255.0 * random.uniform();
    shapes.push_back(std::move(e));
  }
  Tensor t(DType::Float32, {1, channels, size, size});
  auto out = t.f32();
  const double step = static_cast<double>(kGrid - 1) / static_cast<double>(std::max<std::int64_t>(1, size - 1));
  for (std::int64_t y = 0; y < size; ++y) {
    const double gy = static_cast<double>(y) * step;
    const int y0 = std::min(kGrid - 2, static_cast<int>(gy));
    const double fy = gy - y0;
    for (std::int64_t x = 0; x < size; ++x) {
      const double gx = static_cast<double>(x) * step;
      const int x0 = std::min(kGrid - 2, static_cast<int>(gx));
      const double fx = gx - x0;
      const Ellipse* on = nullptr;  // the last shape drawn over this pixel
      for (const auto& e : shapes) {
        const double dy = (static_cast<double>(y) - e.cy) / e.ry, dx = (static_cast<double>(x) - e.cx) / e.rx;
        if (dy * dy + dx * dx <= 1.0) on = &e;
      }
      for (std::size_t c = 0; c < c_count; ++c) {
        const auto g = [&](int gy_, int gx_) {
          return grid[(static_cast<std::size_t>(gy_ * kGrid + gx_)) * c_count + c];
        };
        double v = on != nullptr ? on->colour[c]
                                 : (1 - fy) * ((1 - fx) * g(y0, x0) + fx * g(y0, x0 + 1)) +
                                       fy * ((1 - fx) * g(y0 + 1, x0) + fx * g(y0 + 1, x0 + 1));
        v += kNoiseLevels * (2.0 * random.uniform() - 1.0);
        const float pixel = static_cast<float>(std::clamp(std::round(v), 0.0, 255.0));
        const std::size_t k = std::min<std::size_t>(c, 2);
        // torchvision: ToTensor divides by 255 in float32, Normalize subtracts and divides in float32.
        const float unit = pixel / 255.0f;
        out[(c * static_cast<std::size_t>(size) + static_cast<std::size_t>(y)) * static_cast<std::size_t>(size) +
            static_cast<std::size_t>(x)] = (unit - normalization.mean[k]) / normalization.std[k];
      }
    }
  }
  return t;
}

std::vector<Probe> make_probes(std::int64_t channels, std::int64_t size, std::int64_t batch_large,
                               const Normalization& normalization) {
  const Shape one{1, channels, size, size};
  std::vector<Probe> probes;

  Random seed42(42);
  probes.push_back(
      {"randn(seed=42)", filled(one, [&] { return static_cast<float>(seed42.normal()); }), ProbeRole::Seed, {}});
  probes.push_back({"image-like", image_like(channels, size, normalization, 2024), ProbeRole::Production, {}});
  probes.push_back({"zeros", filled(one, [] { return 0.0f; }), ProbeRole::Stress, {}});
  probes.push_back({"ones", filled(one, [] { return 1.0f; }), ProbeRole::Stress, {}});
  // Beyond the normalised image range (about -2.2..2.7), to expose folding and
  // saturation errors, but not so far that float32 itself gives out: at 10x an
  // untrained EfficientNet-B0's activations reach 1e5 and float32 PyTorch and
  // ONNX Runtime disagree with a float64 computation by 1e-3 of the logits.
  Random large(1234);
  probes.push_back(
      {"large(randn*3)", filled(one, [&] { return static_cast<float>(3.0 * large.normal()); }), ProbeRole::Stress, {}});
  const std::size_t singles = probes.size();
  Probe batch{fmt::format("batch={} of the above", batch_large), Tensor(), ProbeRole::Stress, {}};
  std::vector<const Tensor*> rows;
  for (std::int64_t r = 0; r < batch_large; ++r) {
    batch.rows.push_back(static_cast<std::size_t>(r) % singles);
    rows.push_back(&probes[batch.rows.back()].input);
  }
  batch.input = concat_rows(rows);
  probes.push_back(std::move(batch));
  return probes;
}

}  // namespace pt2onnx::verify
