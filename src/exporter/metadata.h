// The metadata_props pt2onnx writes: flat "pt2onnx.*" keys with plain-text
// values, documented in docs/onnx-metadata.md. No JSON, so any ONNX viewer
// shows them readably and a consumer needs no parser beyond splitting on ','.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "exporter/export_options.h"
#include "nn/graph.h"
#include "onnx/onnx_pb.h"

namespace pt2onnx::exporter::metadata_keys {

inline constexpr const char* kFormat = "pt2onnx.format";  // version of this key scheme
inline constexpr const char* kArch = "pt2onnx.arch";
inline constexpr const char* kNumOutputs = "pt2onnx.num_outputs";
inline constexpr const char* kLabels = "pt2onnx.labels";
inline constexpr const char* kDropout = "pt2onnx.dropout";
inline constexpr const char* kCheckpointFile = "pt2onnx.checkpoint.file";
inline constexpr const char* kCheckpointSha256 = "pt2onnx.checkpoint.sha256";
inline constexpr const char* kCheckpointKey = "pt2onnx.checkpoint.key";

}  // namespace pt2onnx::exporter::metadata_keys

namespace pt2onnx::exporter {

inline constexpr const char* kMetadataFormatVersion = "1";

// The key/value pairs for a graph exported with these options. Throws
// Error(Usage) when labels do not fit the model (count, or a ',' in a name)
// or the preprocessing does not give images of the model's input size.
std::map<std::string, std::string> export_metadata(const nn::Graph& graph, const ExportOptions& options);

// Error(Usage) unless there is one name per output and no name is empty or
// contains ',' or a line break (the metadata value is a ','-separated list).
void check_labels(const std::vector<std::string>& labels, std::int64_t num_outputs);

// Adds them to the model's metadata_props, sorted by key.
void add_metadata(onnx::ModelProto& model, const nn::Graph& graph, const ExportOptions& options);

// "224x224"
std::string format_size(std::int64_t height, std::int64_t width);

}  // namespace pt2onnx::exporter
