#include "verify/probes.h"

#include <cstring>
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

}  // namespace

Tensor stack_images(const std::vector<const Tensor*>& images) {
  Shape shape = images.at(0)->shape();
  shape.at(0) = static_cast<std::int64_t>(images.size());
  Tensor out(DType::Float32, shape);
  std::byte* dst = out.bytes().data();
  for (const Tensor* image : images) {
    std::memcpy(dst, image->bytes().data(), image->nbytes());
    dst += image->nbytes();
  }
  return out;
}

std::vector<Probe> make_probes(std::int64_t channels, std::int64_t size, std::int64_t batch_large) {
  const Shape one{1, channels, size, size};
  std::vector<Probe> probes;

  Random seed42(42);
  probes.push_back({"randn(seed=42)", filled(one, [&] { return static_cast<float>(seed42.normal()); }), {}});
  probes.push_back({"zeros", filled(one, [] { return 0.0f; }), {}});
  probes.push_back({"ones", filled(one, [] { return 1.0f; }), {}});
  Random uni(7);
  probes.push_back({"uniform[0,1)", filled(one, [&] { return static_cast<float>(uni.uniform()); }), {}});
  // Beyond the normalised image range (about -2.2..2.7), to expose folding and
  // saturation errors, but not so far that float32 itself gives out: at 10x an
  // untrained EfficientNet-B0's activations reach 1e5 and float32 PyTorch and
  // ONNX Runtime disagree with a float64 computation by 1e-3 of the logits.
  Random large(1234);
  probes.push_back({"large(randn*3)", filled(one, [&] { return static_cast<float>(3.0 * large.normal()); }), {}});
  const std::size_t singles = probes.size();
  Probe batch{fmt::format("batch={} of the above", batch_large), Tensor(), {}};
  std::vector<const Tensor*> rows;
  for (std::int64_t r = 0; r < batch_large; ++r) {
    batch.rows.push_back(static_cast<std::size_t>(r) % singles);
    rows.push_back(&probes[batch.rows.back()].input);
  }
  batch.input = stack_images(rows);
  probes.push_back(std::move(batch));
  return probes;
}

}  // namespace pt2onnx::verify
