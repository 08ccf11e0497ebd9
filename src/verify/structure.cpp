#include "verify/structure.h"

#include <exception>

#include <fmt/format.h>
#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

namespace pt2onnx::verify {
namespace {

// "[batch, 3, 224, 224]" from a value's type, "?" where a dim is unknown.
std::string describe_shape(const onnx::ValueInfoProto& value) {
  if (!value.type().has_tensor_type() || !value.type().tensor_type().has_shape()) return "(no shape)";
  std::string out = "[";
  const auto& dims = value.type().tensor_type().shape().dim();
  for (int i = 0; i < dims.size(); ++i) {
    if (i) out += ", ";
    if (dims[i].has_dim_param()) {
      out += dims[i].dim_param();
    } else if (dims[i].has_dim_value()) {
      out += std::to_string(dims[i].dim_value());
    } else {
      out += "?";
    }
  }
  return out + "]";
}

// Checks a float tensor value's shape against [batch(symbolic), rest...].
void check_io(const onnx::ValueInfoProto& value, const std::vector<std::int64_t>& rest, const std::string& role,
              StructureReport& report) {
  const auto& type = value.type();
  if (!type.has_tensor_type() || type.tensor_type().elem_type() != onnx::TensorProto_DataType_FLOAT) {
    report.problems.push_back(fmt::format("{} '{}' is not a float32 tensor", role, value.name()));
    return;
  }
  const std::string shape = describe_shape(value);
  const auto& t = type.tensor_type();
  bool shape_ok = t.has_shape() && t.shape().dim_size() == static_cast<int>(rest.size()) + 1;
  bool dynamic = shape_ok && t.shape().dim(0).has_dim_param() && !t.shape().dim(0).dim_param().empty();
  for (std::size_t i = 0; shape_ok && i < rest.size(); ++i) {
    const auto& d = t.shape().dim(static_cast<int>(i) + 1);
    shape_ok = rest[i] <= 0 ? true : (d.has_dim_value() && d.dim_value() == rest[i]);
  }
  std::string want = "[batch";
  for (auto r : rest) want += r > 0 ? fmt::format(", {}", r) : std::string(", ?");
  want += "]";
  if (!shape_ok) {
    report.problems.push_back(fmt::format("{} '{}' has shape {}, expected {}", role, value.name(), shape, want));
  } else if (!dynamic) {
    report.problems.push_back(fmt::format("{} '{}' has a fixed batch axis {}: the batch must be dynamic", role,
                                          value.name(), shape));
  } else {
    report.passed.push_back(fmt::format("{} '{}' float32 {}", role, value.name(), shape));
  }
}

}  // namespace

StructureReport check_structure(const onnx::ModelProto& model, const ExpectedInterface& expected) {
  StructureReport report;
  try {
    onnx::checker::check_model(model);
    report.passed.push_back("onnx checker");
  } catch (const std::exception& e) {
    report.problems.push_back(fmt::format("onnx checker: {}", e.what()));
  }

  for (const auto& opset : model.opset_import()) {
    if (opset.domain().empty() || opset.domain() == "ai.onnx") report.opset = static_cast<int>(opset.version());
  }
  if (report.opset < expected.min_opset || report.opset > expected.max_opset) {
    report.problems.push_back(
        fmt::format("opset {} is outside {}..{}", report.opset, expected.min_opset, expected.max_opset));
  } else {
    report.passed.push_back(fmt::format("opset {}", report.opset));
  }

  const auto& graph = model.graph();
  std::vector<const onnx::ValueInfoProto*> real_inputs;
  for (const auto& in : graph.input()) {
    bool is_initializer = false;
    for (const auto& init : graph.initializer()) is_initializer = is_initializer || init.name() == in.name();
    if (!is_initializer) real_inputs.push_back(&in);
  }
  if (real_inputs.size() != 1 || real_inputs[0]->name() != expected.input_name) {
    report.problems.push_back(fmt::format("expected exactly one graph input named '{}', found {}", expected.input_name,
                                          real_inputs.size() == 1 ? "'" + real_inputs[0]->name() + "'"
                                                                  : std::to_string(real_inputs.size()) + " inputs"));
  } else {
    check_io(*real_inputs[0], {expected.channels, expected.size, expected.size}, "input", report);
  }
  if (graph.output_size() != 1 || graph.output(0).name() != expected.output_name) {
    report.problems.push_back(fmt::format("expected exactly one graph output named '{}'", expected.output_name));
  } else {
    check_io(graph.output(0), {expected.num_outputs}, "output", report);
  }

  // Eval semantics: nothing random or batch-statistics dependent may be left in the graph.
  int training_nodes = 0;
  for (const auto& node : graph.node()) {
    bool training = node.op_type() == "Dropout";
    for (const auto& attr : node.attribute()) training = training || (attr.name() == "training_mode" && attr.i() != 0);
    if (training) {
      ++training_nodes;
      if (training_nodes <= 3) {
        report.problems.push_back(fmt::format("node '{}' ({}) is a training-mode node", node.name(), node.op_type()));
      }
    }
  }
  if (training_nodes == 0) report.passed.push_back("eval semantics: no Dropout or training-mode node");

  // Strict shape inference must reproduce the declared output shape.
  try {
    onnx::ModelProto copy = model;
    onnx::ShapeInferenceOptions options{/*check_type=*/true, /*error_mode=*/1, /*enable_data_propagation=*/false};
    copy.mutable_graph()->clear_value_info();
    for (auto& out : *copy.mutable_graph()->mutable_output()) out.mutable_type()->mutable_tensor_type()->clear_shape();
    onnx::shape_inference::InferShapes(copy, onnx::OpSchemaRegistry::Instance(), options);
    if (copy.graph().output_size() == 1) {
      const std::string inferred = describe_shape(copy.graph().output(0));
      const std::string declared = graph.output_size() == 1 ? describe_shape(graph.output(0)) : "";
      if (inferred != declared) {
        report.problems.push_back(
            fmt::format("shape inference gives output shape {}, the model declares {}", inferred, declared));
      } else {
        report.passed.push_back(fmt::format("strict shape inference: output {}", inferred));
      }
    }
  } catch (const std::exception& e) {
    report.problems.push_back(fmt::format("shape inference: {}", e.what()));
  }
  return report;
}

}  // namespace pt2onnx::verify
