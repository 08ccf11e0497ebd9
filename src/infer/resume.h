// --resume: which paths an earlier, interrupted run already wrote rows for.
#pragma once

#include <filesystem>
#include <string>
#include <unordered_set>

#include "infer/output_format.h"

namespace pt2onnx::infer {

struct ResumeState {
  std::unordered_set<std::string> done;  // paths with a row (results and errors alike)
  bool needs_header = true;              // the file is absent or empty
};

// Reads `output` if it exists. A last row cut off mid-write (no final line
// break) is removed from the file so that appending starts on a clean line;
// nothing else is changed. A CSV file must start with `expected_header`
// (Error(Usage) otherwise: another model's or format's output); a JSONL line
// that is not an object with a "path" is Error(BadInput).
ResumeState prepare_resume(const std::filesystem::path& output, OutputFormat format,
                           const std::string& expected_header);

// The same paths, read only: no header check, nothing trimmed (--list-inputs).
std::unordered_set<std::string> read_done_paths(const std::filesystem::path& output, OutputFormat format);

}  // namespace pt2onnx::infer
