#include "verify/compare.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/error.h"

namespace pt2onnx::verify {
namespace {

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace

Comparison compare(const Tensor& actual, const Tensor& expected, const Tolerance& tolerance) {
  if (actual.shape() != expected.shape()) {
    throw_error(ErrorKind::VerifyFailed, fmt::format("ONNX output shape {} differs from the reference's {}",
                                                     shape_to_string(actual.shape()), shape_to_string(expected.shape())));
  }
  Comparison c;
  const auto a = actual.f32();
  const auto b = expected.f32();
  double scale = 0.0;  // the largest reference logit: float32 error grows with it
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double x = a[i];
    const double y = b[i];
    if (!std::isfinite(x) || !std::isfinite(y)) {
      c.finite = false;
      continue;
    }
    scale = std::max(scale, std::abs(y));
    const double diff = std::abs(x - y);
    c.max_abs_diff = std::max(c.max_abs_diff, diff);
    c.max_rel_diff = std::max(c.max_rel_diff, diff / std::max(std::abs(y), 1e-12));
    c.max_sigmoid_diff = std::max(c.max_sigmoid_diff, std::abs(sigmoid(x) - sigmoid(y)));
  }
  c.within_tolerance = c.finite && c.max_abs_diff <= tolerance.atol + tolerance.rtol * scale;
  return c;
}

}  // namespace pt2onnx::verify
