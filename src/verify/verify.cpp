#include "verify/verify.h"

#include <algorithm>
#include <cstring>
#include <future>
#include <iterator>

#include <fmt/format.h>

#include "common/onnx_file.h"
#include "pt2onnx/error.h"
#include "pt2onnx/runtime.h"
#include "reference/reference.h"
#include "vision/preprocess_metadata.h"

namespace pt2onnx::verify {
namespace {

ExpectedInterface expected_for(const nn::LayerGraph& graph) {
  ExpectedInterface e;
  e.channels = graph.input_channels;
  e.size = graph.input_size;
  e.num_outputs = graph.num_outputs;
  return e;
}

// Any fixed seed: the differently rounded run must repeat from one run to the next.
constexpr std::uint64_t kRoundingSeed = 0x5eed;

bool bit_identical(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.nbytes() == b.nbytes() &&
         std::memcmp(a.bytes().data(), b.bytes().data(), a.nbytes()) == 0;
}

std::string format_row(const Tensor& t) {
  // First row of a [N, K] output, at most 8 values, as numpy prints them.
  std::string out = "[[";
  const auto k = t.rank() == 2 ? t.dim(1) : t.numel();
  const auto values = t.f32();
  for (std::int64_t i = 0; i < std::min<std::int64_t>(k, 8); ++i)
    out += fmt::format(" {:9.3f}", values[static_cast<std::size_t>(i)]);
  if (k > 8) out += " ...";
  return out + "]]";
}

// The "deterministic" column: "-" for a probe run once.
const char* repeat_text(const ProbeResult& p) {
  if (!p.deterministic) return "-";
  return *p.deterministic ? "yes" : "NO";
}

// The "result" column: the verdict, and why an unstable probe was set aside.
std::string result_text(const ProbeResult& p) {
  const auto& c = p.comparison;
  if (c.verdict == Verdict::Unstable) {
    return fmt::format("unstable: float32 alone moves it by {:.3g}, beyond atol + rtol x scale = {:.3g}; not judged",
                       c.spread, c.tolerance);
  }
  std::string text(verdict_name(c.verdict));
  if (c.unstable_rows > 0) {
    text += fmt::format(" ({} of {} rows unstable, not judged)", c.unstable_rows, p.input_shape.at(0));
  }
  return text;
}

}  // namespace

std::string non_finite_explanation(const Report& report) {
  for (const auto& p : report.probes) {
    if (!p.comparison.finite) return fmt::format("{} (probe {})", p.non_finite, p.name);
  }
  return {};
}

bool Report::passed() const {
  return structure.ok() && !probes.empty() &&
         std::all_of(probes.begin(), probes.end(), [](const ProbeResult& p) { return p.passed(); });
}

double Report::max_abs_diff() const {
  double m = 0.0;
  for (const auto& p : probes) {
    if (p.comparison.verdict != Verdict::Unstable) m = std::max(m, p.comparison.max_abs_diff);
  }
  return m;
}

StructureReport verify_structure(const onnx::ModelProto& model, const nn::LayerGraph& graph) {
  return check_structure(model, expected_for(graph));
}

Report verify_model(const std::filesystem::path& onnx_path, const nn::LayerGraph& graph, const Options& options) {
  Report report;
  report.model_path = onnx_path.string();
  report.tolerance = options.tolerance;
  const auto model = read_onnx_model(onnx_path);
  report.structure = verify_structure(model, graph);
  Options with_preprocessing = options;
  with_preprocessing.normalization = normalization_of(model);
  ReferenceRun reference(graph, with_preprocessing);
  report.probes = compare_on_probes(onnx_path, reference, options);
  return report;
}

Normalization normalization_of(const onnx::ModelProto& model) {
  std::map<std::string, std::string> metadata;
  for (const auto& entry : model.metadata_props()) metadata[entry.key()] = entry.value();
  const auto spec = vision::preprocess_spec_from_metadata(metadata);
  return {spec.mean, spec.std};
}

ReferenceRun::ReferenceRun(const nn::LayerGraph& graph, const Options& options)
    : model(&graph),
      probes(make_probes(graph.input_channels, graph.input_size, options.batch_large, options.normalization)),
      row_of(probes.size()) {
  // Every single-image probe in one batch (in eval mode each image is computed
  // on its own), then all of them again for the differently rounded run: one
  // batch, whose images the reference deals out to the cores. The batch probe
  // reuses their rows.
  std::vector<const Tensor*> rows;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    if (!probes[i].rows.empty()) continue;
    row_of[i] = rows.size();
    rows.push_back(&probes[i].input);
  }
  singles = rows.size();
  for (std::size_t i = 0; i < singles; ++i) rows.push_back(rows[i]);
  outputs = std::async(std::launch::async, [&graph, stacked = concat_rows(rows), first = singles] {
    const reference::RoundingNoise noise{kRoundingSeed, static_cast<std::int64_t>(first)};
    return reference::forward(graph, stacked, &noise);
  });
}

std::vector<ProbeResult> compare_on_probes(const std::filesystem::path& onnx_path, ReferenceRun& reference,
                                           const Options& options) {
  // This thread loads the model and runs the probes while the reference
  // computes. The engine gets one thread by default, no OpenMP team: the
  // reference runs each image on one core with no barrier between its
  // threads, and the three threads share two cores without any of them
  // waiting at a barrier for a thread that has lost its core. The seed's
  // probe and the batch probe (whose rows are other probes) run twice:
  // randomness baked into a model shows on any input, so repeating every
  // probe would add work and find nothing more.
  runtime::Options runtime_options;
  runtime_options.threads = options.threads > 0 ? options.threads : 1;
  runtime_options.huge_pages = false;
  auto model = runtime::Model::load(onnx_path, runtime_options);
  const auto& probes = reference.probes;
  std::vector<Tensor> outputs;
  std::vector<std::optional<Tensor>> repeats;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    outputs.push_back(model.run({probes[i].input}).at(0));
    const bool repeat = i == 0 || !probes[i].rows.empty();
    repeats.push_back(repeat ? std::optional(model.run({probes[i].input}).at(0)) : std::nullopt);
  }
  const Tensor reference_outputs = reference.outputs.get();

  std::vector<ProbeResult> results;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const auto& probe = probes[i];
    ProbeResult r;
    r.name = probe.name;
    r.role = probe.role;
    r.input_shape = probe.input.shape();
    std::vector<std::size_t> rows, perturbed_rows;
    for (auto single : probe.rows.empty() ? std::vector<std::size_t>{i} : probe.rows) {
      rows.push_back(reference.row_of.at(single));
      perturbed_rows.push_back(rows.back() + reference.singles);
    }
    r.reference_output = take_rows(reference_outputs, rows);
    r.perturbed_output = take_rows(reference_outputs, perturbed_rows);
    r.onnx_output = std::move(outputs[i]);
    if (repeats[i]) r.deterministic = bit_identical(r.onnx_output, *repeats[i]);
    r.comparison = compare(r.onnx_output, r.reference_output, r.perturbed_output, options.tolerance, probe.role);
    if (!r.comparison.finite) {
      // Run once more, layer by layer, to say where NaN or inf starts.
      if (auto where = reference::first_non_finite(*reference.model, probe.input)) {
        r.non_finite = "the checkpoint's outputs are not finite: " + *where;
      } else {
        r.non_finite = "the reference's outputs are finite; pt2onnx's engine produced NaN or inf";
      }
    }
    results.push_back(std::move(r));
  }
  return results;
}

std::string format_structure(const StructureReport& structure) {
  std::string text;
  for (const auto& line : structure.passed) fmt::format_to(std::back_inserter(text), "  ok: {}\n", line);
  for (const auto& line : structure.problems) fmt::format_to(std::back_inserter(text), "  FAILED: {}\n", line);
  return text;
}

std::string format_report(const Report& report) {
  std::string text;
  fmt::format_to(std::back_inserter(text), "Comparing PyTorch vs ONNX outputs...\n");
  if (!report.probes.empty()) {
    const auto& first = report.probes.front();
    fmt::format_to(std::back_inserter(text), "  PyTorch output: {}   (PyTorch-semantics reference, probe {})\n",
                   format_row(first.reference_output), first.name);
    fmt::format_to(std::back_inserter(text), "  ONNX output:    {}   (pt2onnx runtime)\n",
                   format_row(first.onnx_output));
  }
  fmt::format_to(std::back_inserter(text), "  {:<20} {:>5} {:>11} {:>11} {:>11} {:>11} {:>13}  {}\n", "probe", "batch",
                 "max abs", "max sigmoid", "f32 spread", "threshold", "deterministic", "result");
  for (const auto& p : report.probes) {
    const auto& c = p.comparison;
    fmt::format_to(std::back_inserter(text), "  {:<20} {:>5} {:>11.3e} {:>11.3e} {:>11.3e} {:>11.3e} {:>13}  {}\n",
                   p.name, p.input_shape.at(0), c.max_abs_diff, c.max_sigmoid_diff, c.spread, c.threshold,
                   repeat_text(p), result_text(p));
  }
  const auto unstable = std::count_if(report.probes.begin(), report.probes.end(),
                                      [](const ProbeResult& p) { return p.comparison.verdict == Verdict::Unstable; });
  const double multiple = report.tolerance.spread_multiple;
  const auto seed = std::find_if(report.probes.begin(), report.probes.end(),
                                 [](const ProbeResult& p) { return p.role == ProbeRole::Seed; });
  fmt::format_to(std::back_inserter(text),
                 "  threshold: max(atol + rtol x largest |reference logit|, {} x f32 spread); {}: max(atol, {} x f32 "
                 "spread)\n",
                 multiple, seed != report.probes.end() ? seed->name : "the seed's probe", multiple);
  fmt::format_to(std::back_inserter(text),
                 "  f32 spread: how far the reference moves when float32 rounds every layer differently\n");
  fmt::format_to(
      std::back_inserter(text), "Max output difference: {:.6f} (atol {}, rtol {}{})\n", report.max_abs_diff(),
      report.tolerance.atol, report.tolerance.rtol,
      unstable > 0 ? fmt::format("; {} unstable probe{} not judged", unstable, unstable > 1 ? "s" : "") : "");
  if (report.passed()) {
    fmt::format_to(std::back_inserter(text), "Verification passed!\n");
    return text;
  }
  if (!report.structure.ok())
    fmt::format_to(std::back_inserter(text), "Verification FAILED: the model's structure is wrong (see above).\n");
  for (const auto& p : report.probes) {
    const auto& c = p.comparison;
    if (!c.finite)
      fmt::format_to(std::back_inserter(text), "Verification FAILED: probe {} produced NaN or inf: {}.\n", p.name,
                     p.non_finite);
    else if (c.verdict == Verdict::Failed)
      fmt::format_to(
          std::back_inserter(text),
          "Verification FAILED: probe {} differs by {:.6g}, over its threshold {:.6g} (float32 alone moves it "
          "by {:.3g}).\n",
          p.name, c.max_abs_diff, c.threshold, c.spread);
    if (!p.deterministic.value_or(true))
      fmt::format_to(std::back_inserter(text), "Verification FAILED: probe {} gave different outputs on two runs.\n",
                     p.name);
  }
  return text;
}

nlohmann::json report_to_json(const Report& report) {
  nlohmann::json j;
  j["model"] = report.model_path;
  j["passed"] = report.passed();
  j["atol"] = report.tolerance.atol;
  j["rtol"] = report.tolerance.rtol;
  j["spread_multiple"] = report.tolerance.spread_multiple;
  j["max_abs_diff"] = report.max_abs_diff();
  j["structure"] = {{"ok", report.structure.ok()},
                    {"opset", report.structure.opset},
                    {"passed", report.structure.passed},
                    {"problems", report.structure.problems}};
  j["probes"] = nlohmann::json::array();
  for (const auto& p : report.probes) {
    j["probes"].push_back(
        {{"name", p.name},
         {"input_shape", p.input_shape},
         {"max_abs_diff", p.comparison.max_abs_diff},
         {"max_rel_diff", p.comparison.max_rel_diff},
         {"max_sigmoid_diff", p.comparison.max_sigmoid_diff},
         {"finite", p.comparison.finite},
         {"role", role_name(p.role)},
         {"f32_spread", p.comparison.spread},
         {"tolerance", p.comparison.tolerance},
         {"threshold", p.comparison.threshold},
         {"unstable_rows", p.comparison.unstable_rows},
         {"verdict", verdict_name(p.comparison.verdict)},
         {"deterministic", p.deterministic ? nlohmann::json(*p.deterministic) : nlohmann::json()},
         {"passed", p.passed()},
         {"reference_output", std::vector<float>(p.reference_output.f32().begin(), p.reference_output.f32().end())},
         {"perturbed_reference_output",
          std::vector<float>(p.perturbed_output.f32().begin(), p.perturbed_output.f32().end())},
         {"onnx_output", std::vector<float>(p.onnx_output.f32().begin(), p.onnx_output.f32().end())}});
  }
  return j;
}

}  // namespace pt2onnx::verify
