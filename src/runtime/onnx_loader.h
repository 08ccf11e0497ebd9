// Reads an ONNX file into the engine's Graph. Everything in the file is
// checked before use: sizes, names, tensor data, operators and dtypes.
#pragma once

#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "pt2onnx/runtime.h"
#include "runtime/graph.h"

namespace pt2onnx::runtime {

struct LoadedGraph {
  Graph graph;
  std::vector<TensorInfo> inputs;  // graph inputs that are not initializers, file order
  std::vector<std::string> output_names;
  std::vector<std::string> symbols;  // symbol id -> dim_param ("" for an unnamed dynamic dim)
};

// Throws Error(Io) if unreadable, Error(BadInput) for a malformed model,
// Error(Unsupported) for operators, dtypes or features the engine lacks; each
// names the file and the node, tensor or input at fault.
LoadedGraph load_onnx_file(const std::filesystem::path& path);
// The same from bytes in memory; `source` names them in errors.
LoadedGraph load_onnx_bytes(std::span<const std::byte> bytes, const std::string& source);

}  // namespace pt2onnx::runtime
