#include "exporter/export_options.h"

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx::exporter {

std::int64_t ir_version_for_opset(int opset) {
  check_opset(opset);
  // onnx 1.8/1.9 shipped opsets 13/14 with IR 7; 1.10-1.12 shipped 15-17 with IR 8.
  return opset <= 14 ? 7 : 8;
}

void check_opset(int opset) {
  if (opset < kMinOpset || opset > kMaxOpset) {
    throw_error(ErrorKind::Usage, fmt::format("opset {} is not supported; choose {} to {} (default {})", opset,
                                              kMinOpset, kMaxOpset, kDefaultOpset));
  }
}

}  // namespace pt2onnx::exporter
