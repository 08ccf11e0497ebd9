// Each subcommand lives in its own file and adds itself to the CLI app here.
// A command's action returns the exit code of a successful-or-judged run
// (e.g. verification failing is a judged run); errors are thrown as
// pt2onnx::Error and turned into one paragraph and an exit code by main.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "pt2onnx/error.h"

namespace pt2onnx::cli {

using Action = std::function<int()>;

// Documented in README.md, "Exit codes".
enum class ExitCode : int {
  Ok = 0,
  Internal = 1,
  Usage = 2,
  BadInput = 3,
  ArchMismatch = 4,
  ExportFailed = 5,
  VerifyFailed = 6,
  Unsupported = 7,
  // infer: the run finished, but some inputs could not be read or preprocessed
  // (their rows carry the error).
  SomeInputsFailed = 8,
};

ExitCode exit_code_for(ErrorKind kind);

void add_inspect_command(CLI::App& app, Action& action);
void add_run_command(CLI::App& app, Action& action);
void add_infer_command(CLI::App& app, Action& action);
void add_export_command(CLI::App& app, Action& action);
void add_demo_checkpoint_command(CLI::App& app, Action& action);
void add_demo_images_command(CLI::App& app, Action& action);
void add_verify_command(CLI::App& app, Action& action);
void add_bench_command(CLI::App& app, Action& action);
void add_serve_command(CLI::App& app, Action& action);
void add_triton_repo_command(CLI::App& app, Action& action);

}  // namespace pt2onnx::cli
