// pt2onnx/export.h: the export and verification pipelines, from the modules
// below (checkpoint, models, exporter, verify). The commands `export` and
// `verify` parse their flags into these requests and print the progress.
#include "pt2onnx/export.h"

#include <optional>
#include <utility>

#include <fmt/format.h>

#include "api/checkpoint_graph.h"
#include "checkpoint/checkpoint.h"
#include "common/atomic_file.h"
#include "common/labels.h"
#include "exporter/atomic_write.h"
#include "exporter/export_report.h"
#include "exporter/file_hash.h"
#include "exporter/metadata.h"
#include "exporter/onnx_export.h"
#include "models/registry.h"
#include "pt2onnx/error.h"
#include "verify/verify.h"
#include "vision/preprocess_metadata.h"

namespace pt2onnx {
namespace {

namespace fs = std::filesystem;

void say(const Progress& progress, std::string_view text) {
  if (progress) progress(text);
}

std::optional<std::string> key_or_found(const std::string& key) {
  return key.empty() ? std::nullopt : std::optional(key);
}

// The spec from the request's flags; nullopt when none is set (the architecture's defaults).
std::optional<vision::PreprocessSpec> preprocessing_of(const PreprocessFlags& flags, std::int64_t input_size) {
  if (!flags.any()) return std::nullopt;
  vision::PreprocessSpec spec;
  spec.resize.size = {static_cast<int>(input_size), static_cast<int>(input_size)};
  return vision::apply_flags(spec, flags);
}

// The labels to record: the request's, else the checkpoint's own entry; each
// checked against the model's outputs, the fault named where it lies.
std::optional<std::vector<std::string>> labels_to_record(const ExportRequest& request,
                                                         const checkpoint::LoadedStateDict& loaded,
                                                         std::int64_t outputs) {
  if (request.labels) {
    with_error_context("--labels", [&] { check_labels(*request.labels, outputs, ErrorKind::Usage); });
    return request.labels;
  }
  if (!loaded.labels) return std::nullopt;
  try {
    check_labels(*loaded.labels, outputs, ErrorKind::BadInput);
  } catch (const Error& e) {
    throw Error(ErrorKind::BadInput,
                fmt::format("checkpoint {}: its 'labels' entry does not fit: {}; pass --labels to give the right names",
                            request.checkpoint.string(), e.message()));
  }
  return loaded.labels;
}

// "Comparing PyTorch vs ONNX outputs...": the reference against the engine on
// the complete temporary file before the rename, so that a model that fails
// never reaches the output path.
double verify_written(const fs::path& candidate, verify::ReferenceRun& reference, const verify::Options& options,
                      const verify::StructureReport& structure, const Progress& progress) {
  verify::Report report;
  report.model_path = candidate.string();
  report.tolerance = options.tolerance;
  report.structure = structure;
  report.probes = verify::compare_on_probes(candidate, reference, options);
  say(progress, verify::format_report(report));
  if (!report.passed()) {
    if (const auto why = verify::non_finite_explanation(report); !why.empty()) {
      throw Error(ErrorKind::VerifyFailed, fmt::format("{}; nothing was written", why));
    }
    throw Error(ErrorKind::VerifyFailed,
                fmt::format("the exported model does not reproduce the checkpoint (max difference {:.6g}); nothing "
                            "was written",
                            report.max_abs_diff()));
  }
  return report.max_abs_diff();
}

}  // namespace

ExportResult export_checkpoint(const ExportRequest& request, const Progress& progress) {
  const fs::path& input = request.checkpoint;
  const fs::path output =
      request.output.empty() ? fs::path(input).replace_extension(".onnx") : fs::path(request.output);
  exporter::check_opset(request.opset);
  // Before any work: refusing late would waste the whole export.
  refuse_overwriting_input(output, input, "input checkpoint");
  check_output_path(output);

  say(progress, fmt::format("Loading model from {}...\n", input.string()));
  auto loaded = checkpoint::load_state_dict(input, key_or_found(request.key));
  const auto graph = with_error_context(fmt::format("checkpoint {}", input.string()), [&] {
    return api::checkpoint_graph(request.choice, loaded.state_dict, request.dropout, progress);
  });
  // The graph holds its own float32 copies now; the checkpoint's tensors would
  // only add a model's worth to the peak memory.
  loaded.state_dict = {};

  exporter::ExportOptions options;
  options.opset = request.opset;
  options.dropout = request.dropout;
  options.preprocessing = preprocessing_of(request.preprocessing, graph.input_size);
  options.labels = labels_to_record(request, loaded, graph.num_outputs);
  options.checkpoint_file = input.filename().string();
  // The reference's half of the verification needs only the graph: it runs
  // on other threads while this one hashes, lowers, checks and writes the
  // model. (Started after the checks of the request and the checkpoint, since
  // a failure meanwhile waits for it to finish.)
  verify::Options verification;
  verification.tolerance = request.tolerance;
  // The image-like probe goes through the model's own normalisation.
  if (options.preprocessing) verification.normalization = {options.preprocessing->mean, options.preprocessing->std};
  std::optional<verify::ReferenceRun> reference;
  if (request.verify) reference.emplace(graph, verification);
  options.checkpoint_sha256 = exporter::sha256_file_hex(input);
  options.checkpoint_key = loaded.found_under;

  say(progress, fmt::format("Exporting to {}...\n", output.string()));
  const auto model = exporter::export_model(graph, options);

  say(progress, "Verifying ONNX model structure...\n");
  const auto structure = verify::verify_structure(model, graph);
  say(progress, verify::format_structure(structure));
  if (!structure.ok()) {
    throw Error(ErrorKind::ExportFailed,
                fmt::format("the exported model fails its structural check: {}", structure.problems.front()));
  }
  ExportResult result;
  exporter::write_model(model, output, input, [&](const fs::path& candidate) {
    if (reference) result.max_abs_diff = verify_written(candidate, *reference, verification, structure, progress);
  });

  result.output = output;
  result.arch = graph.arch;
  result.display_name = models::display_name(graph.arch);
  result.channels = graph.input_channels;
  result.input_size = graph.input_size;
  result.num_outputs = graph.num_outputs;
  // The serialized size: the output may be a FIFO, a device or standard output.
  result.file_bytes = model.ByteSizeLong();
  result.labels = options.labels;
  result.notes = graph.notes;
  result.verified = reference.has_value();

  exporter::ExportReport report;
  report.model = result.display_name;
  report.file_bytes = result.file_bytes;
  report.channels = result.channels;
  report.input_size = result.input_size;
  report.num_outputs = result.num_outputs;
  report.labels = result.labels;
  say(progress, fmt::format("\n{}\nExport complete!\n", exporter::format_export_report(report)));
  return result;
}

VerifyResult verify_export(const VerifyRequest& request, const Progress& progress) {
  say(progress, fmt::format("Loading checkpoint {}...\n", request.checkpoint.string()));
  const auto loaded = checkpoint::load_state_dict(request.checkpoint, key_or_found(request.key));
  const auto graph = with_error_context(fmt::format("checkpoint {}", request.checkpoint.string()), [&] {
    return api::checkpoint_graph(request.choice, loaded.state_dict, 0.0, progress);
  });
  say(progress, fmt::format("Verifying {}...\n", request.model.string()));
  verify::Options options;
  options.tolerance = request.tolerance;
  options.threads = request.threads;
  const auto report = verify::verify_model(request.model, graph, options);
  say(progress, verify::format_structure(report.structure));
  say(progress, verify::format_report(report));
  VerifyResult result;
  result.passed = report.passed();
  result.max_abs_diff = report.max_abs_diff();
  result.json = verify::report_to_json(report).dump(2) + "\n";
  return result;
}

}  // namespace pt2onnx
