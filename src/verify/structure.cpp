#include "verify/structure.h"

#include <fmt/format.h>

#include "exporter/export_options.h"
#include "exporter/lowering_plan.h"
#include "exporter/onnx_export.h"
#include "pt2onnx/error.h"

namespace pt2onnx::verify {

StructureReport check_structure(const onnx::ModelProto& model, const ExpectedInterface& expected) {
  StructureReport report;
  for (const auto& opset : model.opset_import()) {
    if (opset.domain().empty() || opset.domain() == "ai.onnx") report.opset = static_cast<int>(opset.version());
  }
  if (report.opset < exporter::kMinOpset || report.opset > exporter::kMaxOpset) {
    report.problems.push_back(
        fmt::format("opset {} is outside {}..{}", report.opset, exporter::kMinOpset, exporter::kMaxOpset));
  } else {
    report.passed.push_back(fmt::format("opset {}", report.opset));
  }

  // The exporter's own check: ONNX checker, strict shape inference, and the
  // seed's interface with a symbolic batch axis on input and output.
  try {
    exporter::check_exported_model(model, expected.channels, expected.size, expected.num_outputs);
    report.passed.push_back("onnx checker");
    report.passed.push_back(fmt::format("strict shape inference: input '{}' [{}, {}, {}, {}], output '{}' [{}, {}]",
                                        exporter::kInputName, exporter::kBatchDim, expected.channels, expected.size,
                                        expected.size, exporter::kOutputName, exporter::kBatchDim,
                                        expected.num_outputs));
  } catch (const Error& e) {
    report.problems.push_back(e.message());
  }

  // Eval semantics: nothing random or batch-statistics dependent may be left in the graph.
  int training_nodes = 0;
  for (const auto& node : model.graph().node()) {
    bool training = node.op_type() == "Dropout";
    for (const auto& attr : node.attribute()) training = training || (attr.name() == "training_mode" && attr.i() != 0);
    if (training && ++training_nodes <= 3) {
      report.problems.push_back(fmt::format("node '{}' ({}) is a training-mode node", node.name(), node.op_type()));
    }
  }
  if (training_nodes == 0) report.passed.push_back("eval semantics: no Dropout or training-mode node");
  return report;
}

}  // namespace pt2onnx::verify
