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

#include "nn/layer_graph.h"
#include "pt2onnx/tensor.h"
#include "verify/compare.h"
#include "verify/probes.h"
#include "verify/structure.h"

namespace pt2onnx::verify {

struct Options {
  Tolerance tolerance;
  Normalization normalization;  // the model's, for the image-like probe
  std::int64_t batch_large = 3;
  int threads = 0;  // runtime threads; 0: one (the reference runs beside it, one image per core)
};

struct ProbeResult {
  std::string name;
  Shape input_shape;
  ProbeRole role = ProbeRole::Stress;
  Comparison comparison;
  // Whether a second run gave bit-identical output; empty where the probe was
  // run once (see compare_on_probes).
  std::optional<bool> deterministic;
  Tensor reference_output;
  Tensor perturbed_output;  // the reference rounded differently: its distance is the float32 spread
  Tensor onnx_output;
  // When the outputs hold NaN or inf: where they come from (the first layer
  // to produce one, or the engine when the reference stays finite).
  std::string non_finite;
  // Unstable probes pass: float32 itself cannot settle them (the row says so).
  [[nodiscard]] bool passed() const { return comparison.verdict != Verdict::Failed && deterministic.value_or(true); }
};

struct Report;
// The first non-finite probe's explanation, empty when every output is finite.
std::string non_finite_explanation(const Report& report);

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
Report verify_model(const std::filesystem::path& onnx_path, const nn::LayerGraph& graph, const Options& options);

// The probes and the reference's outputs on them, each computed twice: as
// PyTorch rounds, and rounded differently (reference::RoundingNoise), which
// measures how far float32 itself moves each probe. The reference starts on
// its own threads as soon as this is made, so that a caller can overlap it
// with other work (export lowers and writes the model meanwhile). `graph` must
// outlive it; destroying it waits for the reference to finish. One use:
// compare_on_probes takes its outputs.
struct ReferenceRun {
  ReferenceRun(const nn::LayerGraph& graph, const Options& options);
  const nn::LayerGraph* model;  // the caller's graph, which outlives the run
  std::vector<Probe> probes;
  std::vector<std::size_t> row_of;  // a single-image probe's row in `outputs`
  std::size_t singles = 0;          // rows row_of + singles hold the perturbed runs
  std::future<Tensor> outputs;      // every single-image probe, stacked, then again perturbed
};

// The two halves of verify_model, for export, which checks the structure of the
// model in memory first and compares numbers on the written temporary file.
StructureReport verify_structure(const onnx::ModelProto& model, const nn::LayerGraph& graph);
std::vector<ProbeResult> compare_on_probes(const std::filesystem::path& onnx_path, ReferenceRun& reference,
                                           const Options& options);

// The normalisation recorded in an exported model's metadata (pt2onnx.preprocess.mean/std), else ImageNet's.
Normalization normalization_of(const onnx::ModelProto& model);

// The seed's console sequence, from "Comparing PyTorch vs ONNX outputs..." to the verdict.
std::string format_report(const Report& report);
// One "  ok: ..." or "  FAILED: ..." line per check.
std::string format_structure(const StructureReport& structure);
nlohmann::json report_to_json(const Report& report);

}  // namespace pt2onnx::verify
