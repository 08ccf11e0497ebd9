// `pt2onnx infer` without its command line: resolves the preprocessing and
// labels, opens (or resumes) the output, runs the pipeline and writes rows as
// they complete. The CLI (tools/pt2onnx/cmd_infer.cpp) only parses flags.
#pragma once

#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "infer/input_walker.h"
#include "infer/model_metadata.h"
#include "infer/output_format.h"
#include "infer/runtime_engine.h"
#include "vision/image.h"
#include "vision/preprocess_metadata.h"

namespace pt2onnx::infer {

struct InferOptions {
  std::filesystem::path model;
  std::vector<std::string> inputs;
  std::optional<std::filesystem::path> output;  // stdout when unset
  OutputFormat format = OutputFormat::Csv;
  OutputActivation activation = OutputActivation::Sigmoid;
  double threshold = 0.5;
  std::optional<std::vector<std::string>> labels;
  int batch_size = 32;
  int threads = 0;         // 0: every CPU this process may use (its affinity mask)
  int decode_threads = 0;  // 0: derived from threads (split_threads)
  Shard shard;
  bool resume = false;
  bool list_inputs = false;           // print the selected paths, load no model
  bool progress = true;               // drawn only when stderr is a terminal
  vision::PreprocessFlags overrides;  // replace what the model's metadata says
  vision::ImageLimits limits;
};

struct InferSummary {
  std::int64_t ok = 0;
  std::int64_t failed = 0;
};

struct ThreadSplit {
  int runtime = 1;
  int decode = 1;
};

// How `total` threads are shared when the model runs whole batches (a model
// whose images are computed one per thread instead gets `total` image
// workers that each decode and infer; pipeline.h): decoding needs about a
// quarter of the time inference does for 224x224 models, so one decode
// thread per four cores, at least one. Below four cores the runtime keeps
// every core and the decode thread shares them.
ThreadSplit split_threads(int total, int decode_override);

// Rows go to options.output or `out`; the progress line and the final
// "N ok, M failed" line go to `err`. Throws Error for anything that stops the
// run as a whole (bad flags, unreadable model or output, engine failure);
// rows written before that stay written.
InferSummary run_infer(const InferOptions& options, const EngineLoader& load_engine, std::FILE* out, std::FILE* err);

}  // namespace pt2onnx::infer
