// Reading .onnx files, which are hostile input like any other file: the one
// reader for the engine's loader, verification, inspection and infer's
// metadata. Errors name the file (Io when it cannot be read, BadInput when it
// is not a ModelProto or is over protobuf's limit).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>

#include "onnx/onnx_pb.h"

namespace pt2onnx {

// protobuf parses at most INT_MAX bytes: the largest ONNX file there can be
// without external data.
inline constexpr std::uint64_t kMaxOnnxBytes = (std::uint64_t{1} << 31) - 1;

// True for a ".onnx" name, or for content that starts the way a serialized
// ModelProto does (field 1, ir_version, then another ModelProto field): torch
// zip checkpoints start with "PK", pickles with 0x80, safetensors with a length.
bool is_onnx_file(const std::filesystem::path& path);

// Parses the whole file, which must have a graph.
onnx::ModelProto read_onnx_model(const std::filesystem::path& path);

// The same from bytes in memory; `source` names them in errors.
onnx::ModelProto parse_onnx_model(std::span<const std::byte> bytes, const std::string& source);

// Every field of the model but its graph (producer, opset_import,
// metadata_props ...), reading past the graph without keeping it.
onnx::ModelProto read_onnx_model_header(const std::filesystem::path& path);

// Only the model's metadata_props (key -> value), reading past everything
// else (the weights above all) without keeping it.
std::map<std::string, std::string> read_onnx_metadata(const std::filesystem::path& path);

}  // namespace pt2onnx
