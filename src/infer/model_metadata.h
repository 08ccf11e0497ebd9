// What `pt2onnx infer` makes of a model's metadata_props (read by
// common/onnx_file.h's read_onnx_metadata; docs/onnx-metadata.md).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infer/runtime_engine.h"
#include "vision/preprocess.h"
#include "vision/preprocess_metadata.h"

namespace pt2onnx::infer {

// Label names for `count` outputs: from the metadata when present (Error
// BadInput if their number differs from count), else output_0, output_1, ...
std::vector<std::string> labels_for(const std::map<std::string, std::string>& metadata, std::size_t count);

// The preprocessing the metadata records, with the given parts replaced, and
// checked (Error(Usage) naming the flag for a bad override).
vision::PreprocessSpec resolve_preprocess(const std::map<std::string, std::string>& metadata,
                                          const vision::PreprocessFlags& overrides);

// The model's H x W, which the preprocessing must produce for every image:
// Error(Usage) when it produces another, or when the model's size is symbolic
// and each image would get its own.
vision::Size2 resolve_input_size(const ModelSignature& signature, const vision::PreprocessSpec& spec);

// The output names: `given` (checked against the model's outputs, Error(Usage)
// naming --labels), else the metadata's (labels_for), else
// Error(Unsupported) when the output size is symbolic too.
std::vector<std::string> resolve_labels(const std::map<std::string, std::string>& metadata,
                                        const ModelSignature& signature,
                                        const std::optional<std::vector<std::string>>& given);

// What `infer`, pt2onnx::Classifier (so `serve`) and the C++ API build from a
// model file, built in this one place: its metadata, the preprocessing it
// records (with the given parts replaced), the engine, the image size the
// preprocessing must produce, and the output labels.
struct ImageModel {
  std::map<std::string, std::string> metadata;
  vision::PreprocessSpec spec;
  ModelSignature signature;
  vision::Size2 input_size;
  std::vector<std::string> labels;
  std::unique_ptr<BatchEngine> engine;
};

// How the engine is loaded: load_runtime_engine, or a test's fake.
using EngineLoader = std::function<LoadedEngine(const std::filesystem::path& model, int threads)>;

// Errors as read_onnx_metadata, resolve_preprocess, the loader,
// resolve_input_size and resolve_labels give them, in that order.
ImageModel open_image_model(const std::filesystem::path& model, const vision::PreprocessFlags& overrides,
                            const std::optional<std::vector<std::string>>& labels, int threads,
                            const EngineLoader& load = load_runtime_engine);

}  // namespace pt2onnx::infer
