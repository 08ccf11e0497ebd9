// What `pt2onnx inspect MODEL.onnx` shows: interface, opsets, operators,
// weights and metadata of an ONNX file, as JSON and as human text.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "onnx/onnx_pb.h"

namespace pt2onnx::inspect {

// {"file", "file_bytes", "ir_version", "producer": {"name", "version"},
//  "opsets": {"ai.onnx": 17}, "graph_name", "inputs": [{"name", "dtype", "shape"}],
//  "outputs": [...], "node_count", "op_counts": {"Conv": 81, ...},
//  "initializers": {"count", "bytes", "external_count"}, "metadata": {...}}.
// Shapes list dims as numbers and symbolic dims as their names ("batch").
// Graph inputs that are initializers (old exporters list them) are not inputs.
nlohmann::json onnx_summary_json(const onnx::ModelProto& model);
nlohmann::json onnx_summary_json(const std::filesystem::path& path);  // adds "file", "file_bytes"

// The same, formatted for a terminal.
std::string onnx_summary_text(const nlohmann::json& summary);
std::string onnx_summary_text(const std::filesystem::path& path);

}  // namespace pt2onnx::inspect
