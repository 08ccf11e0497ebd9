// The fuzz targets' bodies: one function per parser, fed arbitrary bytes.
// Each must return normally for any input, good or hostile: a refusal is a
// pt2onnx::Error of kind BadInput, Unsupported, Usage or Io, caught here. An
// Error of kind Internal (a bug pt2onnx admits to), any other exception, a
// crash or a sanitizer report is a finding. Compiled into the libFuzzer
// programs (fuzz/fuzz_main.cpp) and into the unit tests, which replay the
// seed and regression corpora (tests/fuzz/replay_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace pt2onnx::fuzz {

// True when the input was accepted, false when it was refused with a clear error.
using Target = bool (*)(std::span<const std::uint8_t> data);

struct NamedTarget {
  std::string_view name;  // fuzz/corpus/<name>/, fuzz/regressions/<name>/
  Target run;
};

// unpickler, torch_zip, torch_legacy, safetensors, onnx, npy, png, jpeg, dicom, serve_request.
const std::vector<NamedTarget>& targets();
Target target_named(std::string_view name);  // nullptr when there is none

}  // namespace pt2onnx::fuzz
