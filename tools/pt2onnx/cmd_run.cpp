// pt2onnx run MODEL.onnx --input x.npy --output y.npy [--threads T]
// Runs the engine on NumPy float32 arrays (C order, batch first) and writes
// each output as .npy, atomically.
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "commands.h"
#include "common/atomic_file.h"
#include "common/npy.h"
#include "pt2onnx/runtime.h"
#include "shared_options.h"

namespace pt2onnx::cli {
namespace {

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  int threads = 0;
  bool no_optimize = false;
  std::vector<std::string> disabled_passes;
};

int run_model(const RunArgs& args) {
  // Before any work, and before anything is written: an output over the
  // model or an input would destroy it.
  for (const auto& output : args.outputs) {
    refuse_overwriting_input(output, args.model, "model");
    for (const auto& input : args.inputs) refuse_overwriting_input(output, input, "input");
    check_output_path(output);
  }
  // "-": the array alone on standard output, the listing on standard error.
  for (const auto& output : args.outputs) {
    if (is_standard_output(output)) keep_standard_output_for_data();
  }
  for (std::size_t i = 0; i < args.outputs.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      std::error_code ec;
      if (args.outputs[i] == args.outputs[j] ||
          (std::filesystem::equivalent(args.outputs[i], args.outputs[j], ec) && !ec)) {
        throw_error(ErrorKind::Usage, fmt::format("--output {} is given twice", args.outputs[i]));
      }
    }
  }
  runtime::Options options;
  options.threads = args.threads;
  options.optimize = !args.no_optimize;
  options.disabled_passes = args.disabled_passes;
  auto model = runtime::Model::load(args.model, options);
  const auto& infos = model.inputs();
  if (args.inputs.size() != infos.size()) {
    std::string names;
    for (const auto& i : infos) names += (names.empty() ? "" : ", ") + i.name;
    throw_error(ErrorKind::Usage, fmt::format("the model takes {} input(s) ({}); {} --input given", infos.size(), names,
                                              args.inputs.size()));
  }
  if (args.outputs.size() != model.outputs().size()) {
    throw_error(ErrorKind::Usage, fmt::format("the model has {} output(s); {} --output given", model.outputs().size(),
                                              args.outputs.size()));
  }
  std::vector<Tensor> inputs;
  for (const auto& path : args.inputs) inputs.push_back(read_npy(path));
  std::vector<Tensor> outputs;
  try {
    outputs = model.run(inputs);
  } catch (Error& e) {
    // Which file a mismatched input came from: the runtime names the input.
    // An error that already names the model file (a node that cannot run on
    // these shapes) is the model's, not the array's.
    const bool about_model = std::string_view(e.what()).starts_with("file ");
    if (e.kind() == ErrorKind::BadInput && infos.size() == 1 && !about_model) {
      e.with_context(fmt::format("file {}", args.inputs[0]));
    }
    throw;
  }
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    write_npy(args.outputs[i], outputs[i]);
    fmt::print("{} {} -> {}\n", model.outputs()[i].name, shape_to_string(outputs[i].shape()), args.outputs[i]);
  }
  return static_cast<int>(ExitCode::Ok);
}

}  // namespace

void add_run_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd =
      app.add_subcommand("run", "Run an ONNX model on NumPy .npy inputs with pt2onnx's engine (oneDNN, no Python)");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_option("--input,-i", args->inputs,
                  "float32 .npy array in C order, batch first; once per model input, in the model's order")
      ->required();
  cmd->add_option("--output,-o", args->outputs,
                  "where to write each model output as float32 .npy ('-': standard output)")
      ->required();
  add_threads_option(*cmd, args->threads, "threads the engine uses (default: the physical cores)");
  cmd->add_flag("--no-optimize", args->no_optimize, "skip the graph passes (fusions, folding); for debugging");
  cmd->add_option("--disable-pass", args->disabled_passes, "skip one graph pass by name; repeatable");
  cmd->callback([&action, args] { action = [args] { return run_model(*args); }; });
}

}  // namespace pt2onnx::cli
