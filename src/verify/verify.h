// The seed script's "Comparing PyTorch vs ONNX outputs...", done properly:
// the structure of the .onnx file, then the PyTorch-semantics reference against
// the pt2onnx runtime on several probes, at batch 1 and above, run twice.
#pragma once

#include <filesystem>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/tensor.h"
#include "nn/graph.h"
#include "verify/compare.h"
#include "verify/probes.h"
#include "verify/structure.h"

namespace pt2onnx::verify {

struct Options {
  Tolerance tolerance;
  std::int64_t batch_large = 3;
  int threads = 0;  // runtime threads; 0: one (the reference runs beside it, on all cores)
};

struct ProbeResult {
  std::string name;
  Shape input_shape;
  Comparison comparison;
  // Whether a second run gave bit-identical output; empty where the probe was
  // run once (see compare_on_probes).
  std::optional<bool> deterministic;
  Tensor reference_output;
  Tensor onnx_output;
  [[nodiscard]] bool passed() const { return comparison.within_tolerance && deterministic.value_or(true); }
};

struct Report {
  std::string model_path;
  StructureReport structure;
  std::vector<ProbeResult> probes;
  Tolerance tolerance;
  [[nodiscard]] bool passed() const;
  [[nodiscard]] double max_abs_diff() const;
};

// `graph` is the bound layer graph of the checkpoint the model was exported from.
// Throws Error for unreadable inputs; a model that runs but disagrees is a failed Report.
Report verify_model(const std::filesystem::path& onnx_path, const nn::Graph& graph, const Options& options);

// The probes and the reference's outputs on them. The reference starts on its
// own threads as soon as this is made, so that a caller can overlap it with
// other work (export lowers and writes the model meanwhile). `graph` must
// outlive it; destroying it waits for the reference to finish. One use:
// compare_on_probes takes its outputs.
struct ReferenceRun {
  ReferenceRun(const nn::Graph& graph, const Options& options);
  std::vector<Probe> probes;
  std::vector<std::size_t> row_of;  // a single-image probe's row in `outputs`
  std::future<Tensor> outputs;      // every single-image probe, stacked
};

// The two halves of verify_model, for export, which checks the structure of the
// model in memory first and compares numbers on the written temporary file.
StructureReport verify_structure(const onnx::ModelProto& model, const nn::Graph& graph);
std::vector<ProbeResult> compare_on_probes(const std::filesystem::path& onnx_path, ReferenceRun& reference,
                                           const Options& options);

// The seed's console sequence, from "Comparing PyTorch vs ONNX outputs..." to the verdict.
void print_report(const Report& report, std::FILE* out);
void print_structure(const StructureReport& structure, std::FILE* out);
nlohmann::json report_to_json(const Report& report);

}  // namespace pt2onnx::verify
