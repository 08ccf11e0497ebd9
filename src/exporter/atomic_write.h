// Writing a file so that its path only ever holds the old file or the complete
// new one: write a temporary file beside it, fsync, rename over the path, fsync
// the directory. On any failure the temporary file is removed and whatever was
// at the path before is left untouched.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>

#include "onnx/onnx_pb.h"

namespace pt2onnx::exporter {

// Protobuf cannot serialize or parse a message of 2 GiB or more.
inline constexpr std::uint64_t kProtobufLimitBytes = (std::uint64_t{1} << 31) - 1;

// Writes the whole body to the open file descriptor; throws on failure.
using WriteBody = std::function<void(int fd)>;
// Runs on the complete, synced temporary file before it is renamed into place
// (the hook where a written model can be loaded and verified); throwing aborts
// the write and leaves the output path as it was.
using BeforeCommit = std::function<void(const std::filesystem::path& temp_path)>;

void write_file_atomically(const std::filesystem::path& output, const WriteBody& body,
                           const BeforeCommit& before_commit = {});

// The checks write_file_atomically starts with, for callers that want to fail
// before doing expensive work: Error(Usage) when the path is a directory or names
// no file, Error(Io) when its directory does not exist.
void check_output_path(const std::filesystem::path& output);

// Throws Error(Usage) when `output` names the same file as `input` (also via
// links), so an export can never replace its own checkpoint.
void refuse_same_file(const std::filesystem::path& output, const std::filesystem::path& input);

// Throws Error(ExportFailed) when a model of `bytes` cannot be one protobuf file.
void check_protobuf_size(std::uint64_t bytes, std::uint64_t limit = kProtobufLimitBytes);

// refuse_same_file, check_protobuf_size, then the model serialized atomically.
void write_model(const onnx::ModelProto& model, const std::filesystem::path& output,
                 const std::optional<std::filesystem::path>& source_checkpoint, const BeforeCommit& before_commit = {});

}  // namespace pt2onnx::exporter
