// e^x in double, written as plain arithmetic so that the compiler can turn a
// loop over it into vector code (a call to std::exp stays one call per
// element, and the sigmoids of EfficientNet take about 6 million a image).
// Accurate to a few ulp of double, far below the float32 rounding every
// reference layer ends with; tests/reference checks it against std::exp.
#pragma once

#include <bit>
#include <cstdint>

namespace pt2onnx::reference {

// For x in [-708, 708], where e^x is a normal double (callers clamp: done
// here, the compiler splits the loop around the clamp and it runs ten times
// slower); NaN gives NaN.
inline double exp_double(double x) {
  // e^x = 2^k * e^r with k = round(x / ln 2), |r| <= ln(2) / 2. Adding
  // 1.5 * 2^52 rounds to an integer and leaves k in the low bits.
  constexpr double kLog2e = 1.4426950408889634;
  constexpr double kShifter = 0x1.8p52;
  constexpr double kLn2Hi = 0x1.62e42feep-1;  // ln 2 split so that k * kLn2Hi is exact
  constexpr double kLn2Lo = 0x1.a39ef35793c76p-33;
  const double shifted = x * kLog2e + kShifter;
  const double k = shifted - kShifter;
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;
  // Taylor series of e^r to r^12: the remainder is below 2e-16 for |r| <= 0.347.
  double p = 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // 2^k from its exponent bits; k is in [-1022, 1022] here.
  const std::uint64_t k_bits = std::bit_cast<std::uint64_t>(shifted) - std::bit_cast<std::uint64_t>(kShifter);
  return p * std::bit_cast<double>((k_bits + 1023) << 52);
}

}  // namespace pt2onnx::reference
