// The preprocessing recorded in a model's ONNX metadata_props by
// `pt2onnx export`, and the same text forms accepted by `pt2onnx infer` flags.
//
//   pt2onnx.preprocess.resize         "HxW" (exact size) or "N" (shorter side to N)
//   pt2onnx.preprocess.crop           "HxW", "N" (N x N) or "none"; absent: no crop
//   pt2onnx.preprocess.interpolation  "nearest" | "bilinear" | "bicubic"
//   pt2onnx.preprocess.mean           "r,g,b" (on [0, 1] pixels)
//   pt2onnx.preprocess.std            "r,g,b"
//   pt2onnx.preprocess.color          "RGB" (the only one supported)
//   pt2onnx.input_size                "HxW"; the resize when that key is absent
// Absent keys take the defaults: resize 224x224, no crop, bilinear, ImageNet
// mean and std.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/metadata_keys.h"
#include "pt2onnx/error.h"
#include "pt2onnx/export.h"
#include "vision/preprocess.h"

namespace pt2onnx::vision {

// Each parser throws Error(kind) saying what text was expected.
ResizeSpec parse_resize(std::string_view text, ErrorKind kind);
std::optional<Size2> parse_crop(std::string_view text, ErrorKind kind);
Size2 parse_size(std::string_view text, ErrorKind kind);  // "HxW"
Interpolation parse_interpolation(std::string_view text, ErrorKind kind);
std::array<float, 3> parse_triplet(std::string_view text, ErrorKind kind);

// The preprocessing flags of `export` and `infer` (--resize, --crop,
// --interpolation, --mean, --std; the text forms above), unset when not given:
// the public API's (pt2onnx/export.h), defined there once.
using PreprocessFlags = pt2onnx::PreprocessFlags;

// `base` with each given flag in place of its part. Error(Usage) naming the
// flag and what text was expected; the result is not yet validated.
PreprocessSpec apply_flags(PreprocessSpec base, const PreprocessFlags& flags);

// Error(BadInput) naming the key for a malformed value, Error(Unsupported)
// for a colour other than RGB.
PreprocessSpec preprocess_spec_from_metadata(const std::map<std::string, std::string>& metadata);

// The pt2onnx.preprocess.* entries for a spec, in the forms the parsers read
// back (what `pt2onnx export` writes).
std::map<std::string, std::string> preprocess_metadata(const PreprocessSpec& spec);

}  // namespace pt2onnx::vision
