#include "infer/infer_run.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>
#include <unordered_set>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "common/cpu_budget.h"
#include "common/labels.h"
#include "common/metadata_keys.h"
#include "infer/model_metadata.h"
#include "infer/pipeline.h"
#include "infer/progress.h"
#include "infer/resume.h"
#include "infer/selected_inputs.h"
#include "pt2onnx/error.h"
#include "vision/preprocess_metadata.h"

namespace fs = std::filesystem;

namespace pt2onnx::infer {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// Writes whole rows and flushes each, so an interrupted run keeps every row it
// reported (at most the row being written is cut, and --resume trims it).
class RowSink {
 public:
  RowSink(std::FILE* stream, std::string name) : stream_(stream), name_(std::move(name)) {}
  void write(const std::string& text) {
    if (text.empty()) return;
    if (std::fwrite(text.data(), 1, text.size(), stream_) != text.size() || std::fflush(stream_) != 0) {
      throw_error(ErrorKind::Io, fmt::format("cannot write to {}: {}", name_, std::strerror(errno)));
    }
  }

 private:
  std::FILE* stream_;
  std::string name_;
};

void list_inputs(const InferOptions& options, const std::unordered_set<std::string>* done, std::FILE* out) {
  SelectedInputs inputs(options.inputs, options.shard, done);
  RowSink sink(out, "standard output");
  while (auto item = inputs.next()) sink.write(item->path + "\n");
}

}  // namespace

ThreadSplit split_threads(int total, int decode_override) {
  ThreadSplit split;
  total = std::max(1, total);
  if (decode_override > 0) {
    split.decode = decode_override;
    split.runtime = total > decode_override ? total - decode_override : total;
    return split;
  }
  split.decode = std::max(1, total / 4);
  split.runtime = total >= 4 ? total - split.decode : total;
  return split;
}

InferSummary run_infer(const InferOptions& options, const EngineLoader& load_engine, std::FILE* out, std::FILE* err) {
  if (options.resume && !options.output) throw_error(ErrorKind::Usage, "--resume needs --output FILE");
  if (options.inputs.empty()) throw_error(ErrorKind::Usage, "no inputs given");
  if (options.batch_size < 1) throw_error(ErrorKind::Usage, "--batch-size must be at least 1");
  if (options.output) {
    // Writing over the model, an image or a list of inputs would destroy it.
    refuse_overwriting_input(*options.output, options.model, "model");
    for (const auto& input : options.inputs) {
      const bool list = input.starts_with('@');
      refuse_overwriting_input(*options.output, list ? input.substr(1) : input, list ? "input list" : "input");
    }
  }

  if (options.list_inputs) {
    // No model is loaded, so there is no header to check the output against;
    // the output is only read.
    std::unordered_set<std::string> done;
    if (options.resume) done = read_done_paths(*options.output, options.format);
    list_inputs(options, options.resume ? &done : nullptr, out);
    return {};
  }

  // The CPUs this process may use (a SLURM or container CPU set, a cgroup CPU
  // limit), not the whole machine that std::thread::hardware_concurrency reports.
  const CpuBudget budget = cpu_budget();
  const int total_threads = std::max(1, options.threads > 0 ? options.threads : budget.cpus);
  const ThreadSplit threads = split_threads(total_threads, options.decode_threads);
  fmt::print(err, "pt2onnx: {} thread{} ({})\n", total_threads, total_threads == 1 ? "" : "s",
             options.threads > 0 ? std::string("--threads") : "default: " + budget.why);

  // The model, as pt2onnx::Classifier opens it (model_metadata.h).
  ImageModel model = open_image_model(options.model, options.overrides, options.labels, threads.runtime, load_engine);
  const vision::PreprocessSpec& spec = model.spec;
  const vision::Size2 input_size = model.input_size;
  const std::vector<std::string>& labels = model.labels;
  int batch_size = options.batch_size;
  if (model.signature.batch > 0 && model.signature.batch != batch_size) {
    batch_size = static_cast<int>(model.signature.batch);
    fmt::print(err, "pt2onnx: the model takes batches of exactly {}; using --batch-size {}\n", batch_size, batch_size);
  }
  const RowFormatter formatter(options.format, labels, options.activation, options.threshold);

  // The output: appended to on --resume (after trimming a cut-off row),
  // otherwise created afresh.
  ResumeState resume;
  FilePtr file;
  std::FILE* stream = out;
  std::string stream_name = "standard output";
  if (options.output) {
    if (options.resume) resume = prepare_resume(*options.output, options.format, formatter.header());
    stream_name = options.output->string();
    file.reset(std::fopen(stream_name.c_str(), options.resume ? "ab" : "wb"));
    if (!file) throw_error(ErrorKind::Io, fmt::format("output {}: cannot open: {}", stream_name, std::strerror(errno)));
    stream = file.get();
  }
  RowSink sink(stream, stream_name);
  if (resume.needs_header) sink.write(formatter.header());
  const std::unordered_set<std::string>* done = options.resume ? &resume.done : nullptr;

  ProgressBar progress(err, options.progress && ::isatty(::fileno(err)) != 0);
  std::atomic<bool> stop_count{false};
  std::thread counter;
  if (progress.enabled()) {
    counter = std::thread([&] {
      if (auto total = count_selected(options.inputs, options.shard, done, stop_count)) progress.set_total(*total);
    });
  }
  struct JoinCounter {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~JoinCounter() {
      stop = true;
      if (thread.joinable()) thread.join();
    }
  } join_counter{stop_count, counter};

  SelectedInputs inputs(options.inputs, options.shard, done);
  PipelineOptions pipeline;
  pipeline.preprocess = spec;
  pipeline.input_size = input_size;
  pipeline.limits = options.limits;
  pipeline.batch_size = batch_size;
  pipeline.decode_threads = threads.decode;
  // Unless decode threads were asked for, a model whose images are computed
  // one per thread gets image workers on every thread (pipeline.h).
  if (options.decode_threads == 0) pipeline.image_workers = total_threads;

  InferSummary summary;
  const auto on_result = [&](const ImageResult& r) {
    if (r.error.empty()) {
      std::vector<float> scores = r.outputs;
      apply_activation(options.activation, scores);
      sink.write(formatter.row(r.path, scores));
      ++summary.ok;
    } else {
      sink.write(formatter.error_row(r.path, r.error));
      ++summary.failed;
    }
    progress.update(summary.ok + summary.failed, summary.failed);
  };
  try {
    run_pipeline([&] { return inputs.next(); }, *model.engine, pipeline, on_result);
  } catch (...) {
    progress.finish();
    throw;
  }
  progress.finish();
  fmt::print(err, "{} ok, {} failed\n", summary.ok, summary.failed);
  return summary;
}

}  // namespace pt2onnx::infer
