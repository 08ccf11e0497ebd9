// pt2onnx infer MODEL.onnx INPUT... : batch inference on JPEG, PNG and DICOM
// images with the model's own preprocessing. Flags only; the work is in
// src/infer/infer_run.cpp. User documentation: docs/infer.md.
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "commands.h"
#include "infer/infer_run.h"
#include "infer/model_metadata.h"
#include "infer/runtime_engine.h"
#include "shared_options.h"

namespace pt2onnx::cli {

namespace {

struct InferFlags {
  infer::InferOptions options;
  std::string output;
  std::string format = "csv";
  std::string activation = "sigmoid";
  std::string labels;
  std::string shard = "1/1";
  PreprocessOptions preprocess;
  bool no_progress = false;
};

template <typename T, typename Parse>
T parse_choice(const std::string& text, const char* flag, Parse parse) {
  const auto value = parse(text);
  if (!value) throw Error(ErrorKind::Usage, fmt::format("{} '{}' is not one of the choices (see --help)", flag, text));
  return *value;
}

int run(InferFlags& f) {
  infer::InferOptions& o = f.options;
  if (!f.output.empty()) o.output = f.output;
  o.format = parse_choice<infer::OutputFormat>(f.format, "--format", infer::output_format_from_name);
  o.activation =
      parse_choice<infer::OutputActivation>(f.activation, "--activation", infer::output_activation_from_name);
  o.labels = labels_from_flag(f.labels);
  o.shard = infer::parse_shard(f.shard);
  o.overrides = f.preprocess.flags();
  o.progress = !f.no_progress;

  const infer::InferSummary summary = infer::run_infer(o, infer::load_runtime_engine, stdout, stderr);
  return static_cast<int>(summary.failed > 0 ? ExitCode::SomeInputsFailed : ExitCode::Ok);
}

}  // namespace

void add_infer_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<InferFlags>();
  CLI::App* cmd = app.add_subcommand("infer", "Run a model on JPEG, PNG and DICOM images; one CSV or JSONL row each");
  cmd->footer(
      "INPUT is an image file, a directory (walked recursively for .jpg .jpeg .png .dcm .dicom files and\n"
      "extension-less DICOM files, in sorted order) or @LIST (a file with one path per line).\n"
      "Preprocessing comes from the model's metadata (pt2onnx export); the flags below override it.\n"
      "Exit status: 0 all images ok, 8 some images failed (their rows carry the error), other codes as pt2onnx's.");
  infer::InferOptions& o = flags->options;
  cmd->add_option("model", o.model, "ONNX model written by pt2onnx export")->required();
  cmd->add_option("inputs", o.inputs, "Image files, directories or @LIST files")->required();
  cmd->add_option("-o,--output", flags->output, "Write rows to FILE instead of standard output");
  cmd->add_option("--format", flags->format, "Row format: csv or jsonl")->capture_default_str();
  cmd->add_option("--activation", flags->activation,
                  "sigmoid (multi-label), softmax (single-label) or none (raw logits)")
      ->capture_default_str();
  cmd->add_option("--threshold", o.threshold, "Scores above it are 'predicted' (sigmoid and none)")
      ->check(finite_number())
      ->capture_default_str();
  cmd->add_option("--labels", flags->labels, "Comma-separated label names (default: the model's, else output_N)");
  cmd->add_option("--batch-size", o.batch_size,
                  "Images per model run, for models run in whole batches (see --decode-threads)")
      ->capture_default_str();
  add_threads_option(*cmd, o.threads, "Threads in all (0, the default: every CPU this process may use)");
  cmd->add_option("--decode-threads", o.decode_threads,
                  "Of those, threads that only decode images. 0 (the default): when the model computes each "
                  "image on its own (EfficientNet, ResNet, ...), every thread decodes images and runs the model "
                  "on them one at a time, with no batches; otherwise one decode thread per four cores (at least "
                  "one) beside whole batches. A positive count always means whole batches")
      ->capture_default_str();
  cmd->add_option("--shard", flags->shard,
                  "Process the K-th of N shares of the inputs (input i goes to share i mod N + 1)")
      ->capture_default_str();
  cmd->add_flag("--resume", o.resume, "Skip paths already in --output and append to it");
  cmd->add_flag("--list-inputs", o.list_inputs,
                "Print the paths this run would process, then exit (no model is loaded)");
  cmd->add_flag("--no-progress", flags->no_progress, "Never draw the progress line (drawn only on a terminal anyway)");
  add_preprocess_options(*cmd, flags->preprocess, PreprocessRole::Override);
  cmd->callback([flags, &action] { action = [flags] { return run(*flags); }; });
}

}  // namespace pt2onnx::cli
