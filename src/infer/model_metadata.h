// What `pt2onnx infer` makes of a model's metadata_props (read by
// common/onnx_file.h's read_onnx_metadata; docs/onnx-metadata.md).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pt2onnx::infer {

// Label names for `count` outputs: from the metadata when present (Error
// BadInput if their number differs from count), else output_0, output_1, ...
std::vector<std::string> labels_for(const std::map<std::string, std::string>& metadata, std::size_t count);

}  // namespace pt2onnx::infer
