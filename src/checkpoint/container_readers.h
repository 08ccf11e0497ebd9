// One reader per container format; checkpoint.cpp picks one by content.
// Internal to src/checkpoint.
#pragma once

#include "checkpoint/checkpoint.h"
#include "checkpoint/input_file.h"

namespace pt2onnx::checkpoint {

Checkpoint read_torch_zip(const InputFile& file, const ReadLimits& limits);
Checkpoint read_torch_legacy(const InputFile& file, const ReadLimits& limits);
Checkpoint read_safetensors(const InputFile& file, const ReadLimits& limits);

}  // namespace pt2onnx::checkpoint
