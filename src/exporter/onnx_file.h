// Reading .onnx files, which are hostile input like any other file.
#pragma once

#include <filesystem>

#include "onnx/onnx_pb.h"

namespace pt2onnx::exporter {

// True for a ".onnx" name, or for content that starts the way a serialized
// ModelProto does (field 1, ir_version, then another ModelProto field): torch
// zip checkpoints start with "PK", pickles with 0x80, safetensors with a length.
bool is_onnx_file(const std::filesystem::path& path);

// Parses the whole file. Error(Io) when unreadable, Error(BadInput) when it is
// not a ModelProto, over protobuf's 2 GiB limit, or has no graph.
onnx::ModelProto read_onnx_model(const std::filesystem::path& path);

}  // namespace pt2onnx::exporter
