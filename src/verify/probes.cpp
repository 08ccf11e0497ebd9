#include "verify/probes.h"

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

std::vector<Probe> make_probes(std::int64_t channels, std::int64_t size, std::int64_t batch_large) {
  const Shape one{1, channels, size, size};
  std::vector<Probe> probes;

  Random seed42(42);
  probes.push_back({"randn(seed=42)", filled(one, [&] { return static_cast<float>(seed42.normal()); })});
  probes.push_back({"zeros", filled(one, [] { return 0.0f; })});
  probes.push_back({"ones", filled(one, [] { return 1.0f; })});
  Random uni(7);
  probes.push_back({"uniform[0,1)", filled(one, [&] { return static_cast<float>(uni.uniform()); })});
  // Several times the normalised image range (about -2.2..2.7): exposes folding
  // and saturation errors. Not larger: at 50x, float32 PyTorch itself drifts
  // 1.5% from float64 on EfficientNet-B0, so any float32 engine would "fail".
  Random large(1234);
  probes.push_back({"large(randn*10)", filled(one, [&] { return static_cast<float>(10.0 * large.normal()); })});
  Random batch(99);
  probes.push_back({fmt::format("randn(batch={})", batch_large),
                    filled({batch_large, channels, size, size}, [&] { return static_cast<float>(batch.normal()); })});
  return probes;
}

}  // namespace pt2onnx::verify
