// pt2onnx: PyTorch checkpoint -> verified ONNX model -> inference, in one binary.
#include <cstdio>
#include <exception>
#include <iostream>

#include <fmt/format.h>

#include "commands.h"

namespace pt2onnx::cli {

ExitCode exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Usage:
      return ExitCode::Usage;
    case ErrorKind::Io:
    case ErrorKind::BadInput:
      return ExitCode::BadInput;
    case ErrorKind::ArchMismatch:
      return ExitCode::ArchMismatch;
    case ErrorKind::Unsupported:
      return ExitCode::Unsupported;
    case ErrorKind::ExportFailed:
      return ExitCode::ExportFailed;
    case ErrorKind::VerifyFailed:
      return ExitCode::VerifyFailed;
    case ErrorKind::Internal:
      return ExitCode::Internal;
  }
  return ExitCode::Internal;
}

}  // namespace pt2onnx::cli

int main(int argc, char** argv) {
  using namespace pt2onnx;
  using pt2onnx::cli::ExitCode;
  CLI::App app{
      "pt2onnx: read PyTorch checkpoints safely, export them to verified ONNX models, and run them.\n"
      "No Python or PyTorch is needed at run time."};
  app.set_version_flag("--version", std::string("pt2onnx ") + PT2ONNX_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 ok, 1 internal error, 2 usage error, 3 bad or unreadable input file, "
      "4 architecture mismatch, 5 export or ONNX check failed, 6 verification failed, 7 unsupported model, "
      "8 some inputs failed (infer: the others have results).\n"
      "Run 'pt2onnx COMMAND --help' for each command's options.");

  cli::Action action;
  // In the order of the workflow: make or bring a checkpoint, export, check, run.
  cli::add_demo_checkpoint_command(app, action);
  cli::add_demo_images_command(app, action);
  cli::add_export_command(app, action);
  cli::add_verify_command(app, action);
  cli::add_inspect_command(app, action);
  cli::add_run_command(app, action);
  cli::add_infer_command(app, action);
  cli::add_bench_command(app, action);
  cli::add_serve_command(app, action);
  cli::add_triton_repo_command(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(ExitCode::Usage);
  }
  try {
    return action ? action() : static_cast<int>(ExitCode::Usage);
  } catch (const Error& e) {
    std::cout.flush();
    fmt::print(stderr, "pt2onnx: error: {}\n", e.what());
    return static_cast<int>(cli::exit_code_for(e.kind()));
  } catch (const std::bad_alloc&) {
    std::cout.flush();
    fmt::print(stderr, "pt2onnx: error: out of memory\n");
    return static_cast<int>(ExitCode::Internal);
  } catch (const std::exception& e) {
    std::cout.flush();
    fmt::print(stderr, "pt2onnx: internal error: {}\n", e.what());
    return static_cast<int>(ExitCode::Internal);
  }
}
