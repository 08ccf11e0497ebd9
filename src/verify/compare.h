// Comparison statistics between reference and ONNX outputs (logits).
#pragma once

#include "common/tensor.h"

namespace pt2onnx::verify {

struct Tolerance {
  double atol = 1e-2;  // the seed script's tolerance on logits
  double rtol = 1e-3;  // relative part, so logits in the hundreds are judged fairly
};

struct Comparison {
  double max_abs_diff = 0.0;
  double max_rel_diff = 0.0;      // |a - b| / max(|b|, tiny), over all elements
  double max_sigmoid_diff = 0.0;  // on probabilities, what a multi-label user sees
  // max |a - b| <= atol + rtol * max |b|: the error is judged against the scale of
  // the probe's logits, since float32 rounding grows with the activations, not
  // with each logit (a logit near zero beside large ones carries their error).
  bool within_tolerance = false;
  bool finite = true;             // no NaN or inf on either side
};

// `actual` is the ONNX output, `expected` the reference; shapes must match (checked).
Comparison compare(const Tensor& actual, const Tensor& expected, const Tolerance& tolerance);

}  // namespace pt2onnx::verify
