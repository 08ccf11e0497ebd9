// Writing an ONNX model through common/atomic_file.h, with the checks that only
// an export needs: never over its own checkpoint, never past protobuf's limit.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

#include "common/atomic_file.h"
#include "common/onnx_file.h"
#include "onnx/onnx_pb.h"

namespace pt2onnx::exporter {

// Protobuf cannot serialize or parse a message of 2 GiB or more.

// Throws Error(ExportFailed) when a model of `bytes` cannot be one protobuf file.
void check_protobuf_size(std::uint64_t bytes, std::uint64_t limit = kMaxOnnxBytes);

// refuse_overwriting_input (common/atomic_file.h), check_protobuf_size, then the model serialized atomically.
void write_model(const onnx::ModelProto& model, const std::filesystem::path& output,
                 const std::optional<std::filesystem::path>& source_checkpoint, const BeforeCommit& before_commit = {});

}  // namespace pt2onnx::exporter
