// Judging the ONNX model's logits against the reference's, probe by probe, on
// the scale of how much float32 itself moves them (docs/verification.md).
#pragma once

#include <cstdint>
#include <string_view>

#include "pt2onnx/export.h"
#include "pt2onnx/tensor.h"

namespace pt2onnx::verify {

// The public API's (pt2onnx/export.h), defined there once.
using Tolerance = pt2onnx::Tolerance;

// How a probe is judged. Every probe passes when its difference is within
// max(atol + rtol * scale, spread_multiple * spread); they differ in what an
// ill-conditioned probe (spread beyond atol + rtol * scale) means.
enum class ProbeRole {
  // Synthetic inputs (constants, wide noise): one whose float32 evaluation is
  // itself beyond the tolerance is shown as unstable and set aside.
  Stress,
  // The seed script's probe: while it is well conditioned its check stays the
  // seed's own, max |diff| <= atol, with no relative part.
  Seed,
  // An input like production's (a natural image through the model's
  // preprocessing): never set aside.
  Production,
};

std::string_view role_name(ProbeRole role);  // "stress", "seed", "production"

enum class Verdict { Ok, Failed, Unstable };
std::string_view verdict_name(Verdict verdict);  // "ok", "FAILED", "unstable"

struct Comparison {
  // Over every row of the probe.
  double max_rel_diff = 0.0;      // |a - b| / max(|b|, tiny)
  double max_sigmoid_diff = 0.0;  // on probabilities, what a multi-label user sees
  bool finite = true;             // no NaN or inf on either side
  // The deciding row (a single image's only row; of a batch, the judged row
  // nearest to or furthest over its threshold, else the row furthest over
  // it): its max |a - b|, its float32 spread, atol + rtol * its largest
  // reference logit, and the threshold its difference was held to.
  double max_abs_diff = 0.0;
  double spread = 0.0;
  double tolerance = 0.0;
  double threshold = 0.0;
  std::int64_t unstable_rows = 0;  // rows set aside as unstable
  Verdict verdict = Verdict::Failed;
};

// `actual` is the ONNX output, `expected` the reference and `perturbed` the
// reference rounded differently (reference::RoundingNoise), all [N, K] and
// judged row by row (a batch's rows are separate images). Shapes must match
// (checked).
Comparison compare(const Tensor& actual, const Tensor& expected, const Tensor& perturbed, const Tolerance& tolerance,
                   ProbeRole role);

}  // namespace pt2onnx::verify
