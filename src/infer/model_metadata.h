// What `pt2onnx infer` reads from a model file besides its graph: the
// metadata_props that `pt2onnx export` writes (docs/onnx-metadata.md).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pt2onnx::infer {

// All metadata_props of an ONNX model. Error(Io) when the file cannot be
// read, Error(BadInput) when it is not an ONNX ModelProto.
std::map<std::string, std::string> read_model_metadata(const std::filesystem::path& model);

// Label names for `count` outputs: from the metadata when present (Error
// BadInput if their number differs from count), else output_0, output_1, ...
std::vector<std::string> labels_for(const std::map<std::string, std::string>& metadata, std::size_t count);

}  // namespace pt2onnx::infer
