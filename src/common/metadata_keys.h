// The metadata_props keys of a model exported by pt2onnx, one home for the
// writer (exporter/metadata.cpp) and every reader (infer, vision's
// preprocessing, verification). Flat "pt2onnx.*" keys with plain-text values,
// documented in docs/onnx-metadata.md: any ONNX viewer shows them readably and
// a consumer needs no parser beyond splitting on ','.
#pragma once

namespace pt2onnx::metadata_keys {

inline constexpr const char* kFormat = "pt2onnx.format";  // version of this key scheme
inline constexpr const char* kFormatVersion = "1";        // its value
inline constexpr const char* kArch = "pt2onnx.arch";
inline constexpr const char* kNumOutputs = "pt2onnx.num_outputs";
inline constexpr const char* kLabels = "pt2onnx.labels";  // "biopsy,magview" (common/labels.h)
inline constexpr const char* kDropout = "pt2onnx.dropout";
inline constexpr const char* kCheckpointFile = "pt2onnx.checkpoint.file";
inline constexpr const char* kCheckpointSha256 = "pt2onnx.checkpoint.sha256";
inline constexpr const char* kCheckpointKey = "pt2onnx.checkpoint.key";
// The training preprocessing (text forms in vision/preprocess_metadata.h).
inline constexpr const char* kResize = "pt2onnx.preprocess.resize";
inline constexpr const char* kCrop = "pt2onnx.preprocess.crop";
inline constexpr const char* kInterpolation = "pt2onnx.preprocess.interpolation";
inline constexpr const char* kMean = "pt2onnx.preprocess.mean";
inline constexpr const char* kStd = "pt2onnx.preprocess.std";
inline constexpr const char* kColor = "pt2onnx.preprocess.color";
inline constexpr const char* kInputSize = "pt2onnx.input_size";

}  // namespace pt2onnx::metadata_keys
