// The metadata_props pt2onnx writes (keys and their format:
// common/metadata_keys.h, docs/onnx-metadata.md).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "exporter/export_options.h"
#include "nn/layer_graph.h"
#include "onnx/onnx_pb.h"

namespace pt2onnx::exporter {

// The key/value pairs (keys: common/metadata_keys.h) for a graph exported
// with these options. Throws Error(Usage) when labels do not fit the model
// (common/labels.h) or the preprocessing does not give images of the model's
// input size.
std::map<std::string, std::string> export_metadata(const nn::LayerGraph& graph, const ExportOptions& options);

// Adds them to the model's metadata_props, sorted by key.
void add_metadata(onnx::ModelProto& model, const nn::LayerGraph& graph, const ExportOptions& options);

// "224x224"
std::string format_size(std::int64_t height, std::int64_t width);

}  // namespace pt2onnx::exporter
