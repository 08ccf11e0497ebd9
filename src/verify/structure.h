// Structural verification of an exported model: the ONNX checker, strict shape
// inference, and the seed script's interface (input `image`, output `logits`,
// dynamic batch, opset, eval semantics).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

namespace pt2onnx::verify {

// Input `image` [batch, channels, size, size], output `logits` [batch, num_outputs].
struct ExpectedInterface {
  std::int64_t channels = 3;
  std::int64_t size = 224;
  std::int64_t num_outputs = 2;
};

struct StructureReport {
  std::vector<std::string> passed;    // one line per check that held
  std::vector<std::string> problems;  // one line per check that failed
  int opset = 0;
  [[nodiscard]] bool ok() const { return problems.empty(); }
};

StructureReport check_structure(const onnx::ModelProto& model, const ExpectedInterface& expected);

}  // namespace pt2onnx::verify
