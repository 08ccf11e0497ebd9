// One libFuzzer program per target: PT2ONNX_FUZZ_TARGET names the body in
// fuzz/targets.cpp (CMake builds pt2onnx_fuzz_<name> with it defined).
#include <cstdlib>

#include "fuzz/targets.h"

#ifndef PT2ONNX_FUZZ_TARGET
#error "PT2ONNX_FUZZ_TARGET must name a target of fuzz/targets.cpp"
#endif

// libFuzzer's entry point, named by libFuzzer.
// NOLINTNEXTLINE(readability-identifier-naming)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const pt2onnx::fuzz::Target kTarget = pt2onnx::fuzz::target_named(PT2ONNX_FUZZ_TARGET);
  if (kTarget == nullptr) std::abort();
  (void)kTarget({data, size});
  return 0;
}
