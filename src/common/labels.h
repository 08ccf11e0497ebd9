// Output label names: the one text form ("a,b,c") that `export --labels`,
// `infer --labels` and the pt2onnx.labels metadata value share, and the rule
// every list must pass. The caller says whose fault a bad list is:
// ErrorKind::Usage for a command-line flag, BadInput for a file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pt2onnx/error.h"

namespace pt2onnx {

// "a, b ,c" -> {"a", "b", "c"} (spaces around names trimmed). Error(kind) for
// an empty list or name, a line break in a name, or a name given twice.
std::vector<std::string> parse_labels(std::string_view text, ErrorKind kind);

// Error(kind) unless there are `outputs` names, none empty, none containing
// ',' or a line break (the metadata value could not be read back), none twice.
void check_labels(const std::vector<std::string>& labels, std::int64_t outputs, ErrorKind kind);

}  // namespace pt2onnx
