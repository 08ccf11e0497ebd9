// `pt2onnx export`: the seed script's 04_export.py. Rebuild the architecture,
// bind the checkpoint, lower to ONNX, check, write atomically, summarise.
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "checkpoint/checkpoint.h"
#include "commands.h"
#include "common/labels.h"
#include "exporter/atomic_write.h"
#include "exporter/export_report.h"
#include "exporter/file_hash.h"
#include "exporter/metadata.h"
#include "exporter/onnx_export.h"
#include "models/registry.h"
#include "shared_options.h"
#include "verification.h"
#include "verify/verify.h"
#include "vision/preprocess_metadata.h"

namespace pt2onnx::cli {
namespace {

namespace fs = std::filesystem;

struct ExportArgs {
  std::string input = "models/model.pth";
  std::string output;  // default: the input with the extension .onnx
  ModelChoiceArgs choices;
  double dropout = 0.4;  // the seed's create_model default
  int opset = exporter::kDefaultOpset;
  std::string labels;
  std::string key;
  bool no_verify = false;
  verify::Tolerance tolerance;
  PreprocessOptions preprocess;  // recorded for `pt2onnx infer`
};

// The spec from the flags; nullopt when none is given (the architecture's defaults).
std::optional<vision::PreprocessSpec> preprocessing_from_flags(const ExportArgs& args, std::int64_t input_size) {
  const auto flags = args.preprocess.flags();
  if (!flags.any()) return std::nullopt;
  vision::PreprocessSpec spec;
  spec.resize.size = {static_cast<int>(input_size), static_cast<int>(input_size)};
  return vision::apply_flags(spec, flags);
}

// "Comparing PyTorch vs ONNX outputs...": the PyTorch-semantics reference
// against the runtime, on the complete temporary file before the rename, so a
// model that fails never reaches the output path.
verify::Options verify_options(const ExportArgs& args, const std::optional<vision::PreprocessSpec>& preprocessing) {
  verify::Options options;
  options.tolerance = args.tolerance;
  // The image-like probe goes through the model's own normalisation.
  if (preprocessing) options.normalization = {preprocessing->mean, preprocessing->std};
  return options;
}

void verify_exported_model(const fs::path& candidate, verify::ReferenceRun& reference, const verify::Options& options,
                           const verify::StructureReport& structure) {
  verify::Report report;
  report.model_path = candidate.string();
  report.tolerance = options.tolerance;
  report.structure = structure;
  report.probes = verify::compare_on_probes(candidate, reference, options);
  verify::print_report(report, stdout);
  std::fflush(stdout);
  if (!report.passed()) {
    if (const auto why = verify::non_finite_explanation(report); !why.empty()) {
      throw Error(ErrorKind::VerifyFailed, fmt::format("{}; nothing was written", why));
    }
    throw Error(ErrorKind::VerifyFailed,
                fmt::format("the exported model does not reproduce the checkpoint (max difference {:.6g}); nothing "
                            "was written",
                            report.max_abs_diff()));
  }
}

int run_export(const ExportArgs& args) {
  const fs::path input = args.input;
  const fs::path output = args.output.empty() ? fs::path(input).replace_extension(".onnx") : fs::path(args.output);
  exporter::check_opset(args.opset);
  // Before any work: refusing late would waste the whole export.
  refuse_overwriting_input(output, input, "input checkpoint");
  check_output_path(output);
  // "--output -": the model alone on standard output, the progress on standard error.
  if (is_standard_output(output)) keep_standard_output_for_data();

  fmt::print("Loading model from {}...\n", input.string());
  std::fflush(stdout);
  auto loaded = checkpoint::load_state_dict(input, args.key.empty() ? std::nullopt : std::optional(args.key));
  const auto graph = with_error_context(fmt::format("checkpoint {}", input.string()), [&] {
    return build_checkpoint_graph(args.choices, loaded.state_dict, args.dropout);
  });
  // The graph holds its own float32 copies now; the checkpoint's tensors would
  // only add a model's worth to the peak memory.
  loaded.state_dict = {};

  exporter::ExportOptions options;
  options.opset = args.opset;
  options.dropout = args.dropout;
  options.preprocessing = preprocessing_from_flags(args, graph.input_size);
  if (auto labels = labels_from_flag(args.labels)) {
    with_error_context("--labels", [&] { check_labels(*labels, graph.num_outputs, ErrorKind::Usage); });
    options.labels = std::move(labels);
  } else if (loaded.labels) {
    // The same rule as for --labels, but the fault is in the file, not the command line.
    try {
      check_labels(*loaded.labels, graph.num_outputs, ErrorKind::BadInput);
    } catch (const Error& e) {
      throw Error(ErrorKind::BadInput, fmt::format("checkpoint {}: its 'labels' entry does not fit: {}; pass --labels "
                                                   "to give the right names",
                                                   input.string(), e.message()));
    }
    options.labels = loaded.labels;
  }
  options.checkpoint_file = input.filename().string();
  // The reference's half of the verification needs only the graph: it runs
  // on other threads while this one hashes, lowers, checks and writes the
  // model. (Started after the checks of the command line and the checkpoint,
  // since a failure meanwhile waits for it to finish.)
  const auto verification = verify_options(args, options.preprocessing);
  std::optional<verify::ReferenceRun> reference;
  if (!args.no_verify) reference.emplace(graph, verification);
  options.checkpoint_sha256 = exporter::sha256_file_hex(input);
  options.checkpoint_key = loaded.found_under;

  fmt::print("Exporting to {}...\n", output.string());
  std::fflush(stdout);
  const auto model = exporter::export_model(graph, options);

  fmt::print("Verifying ONNX model structure...\n");
  std::fflush(stdout);
  const auto structure = verify::verify_structure(model, graph);
  verify::print_structure(structure, stdout);
  if (!structure.ok()) {
    throw Error(ErrorKind::ExportFailed,
                fmt::format("the exported model fails its structural check: {}", structure.problems.front()));
  }
  exporter::write_model(model, output, input, [&](const fs::path& candidate) {
    if (reference) verify_exported_model(candidate, *reference, verification, structure);
  });

  exporter::ExportReport report;
  report.model = models::display_name(graph.arch);
  // The serialized size: the output may be a FIFO, a device or standard output.
  report.file_bytes = model.ByteSizeLong();
  report.channels = graph.input_channels;
  report.input_size = graph.input_size;
  report.num_outputs = graph.num_outputs;
  report.labels = options.labels;
  fmt::print("\n{}\nExport complete!\n", exporter::format_export_report(report));
  fmt::print("Next: Run inference with: pt2onnx infer {} IMAGES...\n", output.string());
  return static_cast<int>(ExitCode::Ok);
}

}  // namespace

void add_export_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<ExportArgs>();
  auto* cmd =
      app.add_subcommand("export", "Export a PyTorch checkpoint to a checked ONNX model (the seed's 04_export.py)");
  cmd->add_option("--input", args->input, "Checkpoint to read")->capture_default_str();
  cmd->add_option("--output", args->output,
                  "ONNX file to write; '-' for standard output (default: the input with extension .onnx)");
  add_model_choice_options(*cmd, args->choices, "Architecture the checkpoint was trained as");
  cmd->add_option("--dropout", args->dropout, "Classifier dropout of the training model (recorded; off in eval)")
      ->check(finite_in(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--opset", args->opset, fmt::format("ONNX opset, {} to {}", exporter::kMinOpset, exporter::kMaxOpset))
      ->capture_default_str();
  cmd->add_option("--labels", args->labels,
                  "Output names, comma separated (default: the checkpoint's 'labels' entry, else none)");
  cmd->add_option("--key", args->key, "Key of the state dict inside the checkpoint (default: found automatically)");
  cmd->add_flag("--no-verify", args->no_verify,
                "Skip the numeric verification (reference vs runtime on several probes) of the written model");
  add_preprocess_options(*cmd, args->preprocess, PreprocessRole::Record);
  add_tolerance_options(*cmd, args->tolerance);
  cmd->callback([args, &action] { action = [args] { return run_export(*args); }; });
}

}  // namespace pt2onnx::cli
