#include "verify/compare.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <span>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx::verify {
namespace {

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

void require_same_shape(const Tensor& t, const Tensor& expected, std::string_view what) {
  if (t.shape() != expected.shape()) {
    throw_error(ErrorKind::VerifyFailed, fmt::format("{} shape {} differs from the reference's {}", what,
                                                     shape_to_string(t.shape()), shape_to_string(expected.shape())));
  }
}

struct Row {
  double diff = 0.0;
  double spread = 0.0;
  double tolerance = 0.0;
  double threshold = 0.0;
  bool unstable = false;
  [[nodiscard]] double ratio() const {
    return threshold > 0.0 ? diff / threshold : std::numeric_limits<double>::infinity();
  }
};

Row judge_row(std::span<const float> a, std::span<const float> b, std::span<const float> p, const Tolerance& tolerance,
              ProbeRole role) {
  Row row;
  double scale = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    row.diff = std::max(row.diff, std::abs(double(a[i]) - b[i]));
    scale = std::max(scale, std::abs(double(b[i])));
    const double moved = std::abs(double(p[i]) - b[i]);
    row.spread = std::isfinite(moved) ? std::max(row.spread, moved) : std::numeric_limits<double>::infinity();
  }
  row.tolerance = tolerance.atol + tolerance.rtol * scale;
  const double noise = tolerance.spread_multiple * row.spread;
  row.unstable = role != ProbeRole::Production && row.spread > row.tolerance;
  row.threshold = std::max(role == ProbeRole::Seed ? tolerance.atol : row.tolerance, noise);
  return row;
}

}  // namespace

std::string_view role_name(ProbeRole role) {
  switch (role) {
    case ProbeRole::Stress:
      return "stress";
    case ProbeRole::Seed:
      return "seed";
    case ProbeRole::Production:
      return "production";
  }
  return "?";
}

std::string_view verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::Ok:
      return "ok";
    case Verdict::Failed:
      return "FAILED";
    case Verdict::Unstable:
      return "unstable";
  }
  return "?";
}

Comparison compare(const Tensor& actual, const Tensor& expected, const Tensor& perturbed, const Tolerance& tolerance,
                   ProbeRole role) {
  require_same_shape(actual, expected, "ONNX output");
  require_same_shape(perturbed, expected, "differently rounded reference output");
  Comparison c;
  const auto a = actual.f32();
  const auto b = expected.f32();
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double x = a[i];
    const double y = b[i];
    if (!std::isfinite(x) || !std::isfinite(y)) {
      c.finite = false;
      continue;
    }
    const double diff = std::abs(x - y);
    c.max_rel_diff = std::max(c.max_rel_diff, diff / std::max(std::abs(y), 1e-12));
    c.max_sigmoid_diff = std::max(c.max_sigmoid_diff, std::abs(sigmoid(x) - sigmoid(y)));
  }
  const std::int64_t rows = expected.rank() == 0 ? 1 : expected.dim(0);
  const auto width = static_cast<std::size_t>(rows > 0 ? expected.numel() / rows : 0);
  std::optional<Row> deciding;  // the worst judged row, else the worst row
  bool failed = false;
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto at = static_cast<std::size_t>(r) * width;
    const Row row =
        judge_row(a.subspan(at, width), b.subspan(at, width), perturbed.f32().subspan(at, width), tolerance, role);
    c.unstable_rows += row.unstable ? 1 : 0;
    failed = failed || (!row.unstable && !(row.diff <= row.threshold));
    const bool better_pick = !deciding || (deciding->unstable && !row.unstable) ||
                             (deciding->unstable == row.unstable && row.ratio() > deciding->ratio());
    if (better_pick) deciding = row;
  }
  if (deciding) {
    c.max_abs_diff = deciding->diff;
    c.spread = deciding->spread;
    c.tolerance = deciding->tolerance;
    c.threshold = deciding->threshold;
  }
  if (!c.finite || failed) {
    c.verdict = Verdict::Failed;
  } else {
    c.verdict = rows > 0 && c.unstable_rows == rows ? Verdict::Unstable : Verdict::Ok;
  }
  return c;
}

}  // namespace pt2onnx::verify
