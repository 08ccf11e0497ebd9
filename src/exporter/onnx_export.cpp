#include "exporter/onnx_export.h"

#include <fmt/format.h>

#include "exporter/layer_lowerings.h"
#include "exporter/lowering_context.h"
#include "exporter/lowering_plan.h"
#include "exporter/metadata.h"
#include "exporter/onnx_shapes.h"
#include "onnx/checker.h"
#include "onnx/shape_inference/implementation.h"
#include "pt2onnx/error.h"

namespace pt2onnx::exporter {
namespace {

void add_float_value_info(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>& list, const std::string& name,
                          const std::vector<std::int64_t>& fixed_dims_after_batch) {
  auto* vi = list.Add();
  vi->set_name(name);
  auto* tensor = vi->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto_DataType_FLOAT);
  auto* shape = tensor->mutable_shape();
  shape->add_dim()->set_dim_param(kBatchDim);
  for (auto d : fixed_dims_after_batch) shape->add_dim()->set_dim_value(d);
}

void check_graph_header(const nn::LayerGraph& graph) {
  if (graph.num_outputs <= 0 || graph.input_channels <= 0 || graph.input_size <= 0) {
    throw_error(ErrorKind::ExportFailed,
                fmt::format("graph {} has {} outputs, {} input channels, input size {}: all must be positive",
                            graph.arch, graph.num_outputs, graph.input_channels, graph.input_size));
  }
}

// The model with each float initializer reduced to its name, type and dims.
// Built field by field so the weights are never copied, even for a moment.
onnx::ModelProto without_float_weights(const onnx::ModelProto& model) {
  onnx::ModelProto copy;
  copy.set_ir_version(model.ir_version());
  *copy.mutable_opset_import() = model.opset_import();
  *copy.mutable_functions() = model.functions();
  const auto& g = model.graph();
  auto& c = *copy.mutable_graph();
  c.set_name(g.name());
  *c.mutable_node() = g.node();
  *c.mutable_input() = g.input();
  *c.mutable_output() = g.output();
  *c.mutable_value_info() = g.value_info();
  for (const auto& t : g.initializer()) {
    auto* header = c.add_initializer();
    if (t.data_type() != onnx::TensorProto_DataType_FLOAT) {
      header->CopyFrom(t);
      continue;
    }
    header->set_name(t.name());
    header->set_data_type(t.data_type());
    *header->mutable_dims() = t.dims();
  }
  return copy;
}

const onnx::ValueInfoProto* find_value_info(const google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>& list,
                                            const std::string& name) {
  for (const auto& vi : list) {
    if (vi.name() == name) return &vi;
  }
  return nullptr;
}

}  // namespace

onnx::ModelProto export_model(const nn::LayerGraph& graph, const ExportOptions& options) {
  check_opset(options.opset);
  check_graph_header(graph);

  onnx::ModelProto model;
  model.set_ir_version(ir_version_for_opset(options.opset));
  auto* opset = model.add_opset_import();
  opset->set_domain("");  // the default ai.onnx domain
  opset->set_version(options.opset);
  model.set_producer_name(kProducerName);
  model.set_producer_version(PT2ONNX_VERSION);
  model.set_doc_string(fmt::format("{} exported by pt2onnx in eval mode (dropout off, BatchNorm folded)", graph.arch));

  auto& g = *model.mutable_graph();
  g.set_name(graph.arch);
  add_float_value_info(*g.mutable_input(), kInputName, {graph.input_channels, graph.input_size, graph.input_size});
  add_float_value_info(*g.mutable_output(), kOutputName, {graph.num_outputs});

  const auto plan = plan_lowering(graph);
  LoweringContext ctx(graph, plan, options.opset, g);
  for (std::size_t i = 0; i < graph.layers.size(); ++i) {
    if (plan.skipped[i]) continue;
    const auto& layer = graph.layers[i];
    with_error_context(fmt::format("layer {} ({})", layer.path, nn::layer_kind_name(layer.kind)),
                       [&] { lowering_for(layer.kind)(layer, ctx); });
  }
  add_metadata(model, graph, options);
  return model;
}

void check_exported_model(const onnx::ModelProto& model, std::int64_t channels, std::int64_t input_size,
                          std::int64_t num_outputs) {
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw_error(ErrorKind::ExportFailed, fmt::format("the ONNX checker rejected the model: {}", e.what()));
  }

  // Inference runs on a copy whose output shape is cleared, so the shape found
  // afterwards is what inference derived, not what the exporter declared; the
  // declared shape is compared with the same expectation below, which is what
  // inference on the model as written would check. Float weights are left out of
  // the copy: inference reads only their type and dims, and copying them would
  // double the export's memory. Integer initializers (shape operands) keep their data.
  onnx::ModelProto inferred = without_float_weights(model);
  for (auto& out : *inferred.mutable_graph()->mutable_output()) {
    out.mutable_type()->mutable_tensor_type()->clear_shape();
  }
  try {
    const onnx::ShapeInferenceOptions strict{/*check_type=*/true, /*error_mode=*/1, /*data_prop=*/false};
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(), strict);
  } catch (const std::exception& e) {
    throw_error(ErrorKind::ExportFailed, fmt::format("strict ONNX shape inference failed: {}", e.what()));
  }

  const auto& g = inferred.graph();
  if (g.input_size() != 1 || g.input(0).name() != kInputName || g.output_size() != 1 ||
      g.output(0).name() != kOutputName) {
    throw_error(ErrorKind::ExportFailed,
                fmt::format("the model must have exactly one input '{}' and one output '{}'", kInputName, kOutputName));
  }
  const auto expected_in = fmt::format("[{}, {}, {}, {}]", kBatchDim, channels, input_size, input_size);
  const auto got_in = describe_shape(g.input(0).type());
  if (got_in != expected_in) {
    throw_error(ErrorKind::ExportFailed, fmt::format("input '{}' is {}, expected {}", kInputName, got_in, expected_in));
  }
  const auto* out = &g.output(0);
  if (!out->type().tensor_type().has_shape()) {
    if (const auto* vi = find_value_info(g.value_info(), kOutputName)) out = vi;
  }
  const auto expected_out = fmt::format("[{}, {}]", kBatchDim, num_outputs);
  const auto got_out = describe_shape(out->type());
  if (got_out != expected_out) {
    throw_error(ErrorKind::ExportFailed, fmt::format("shape inference gives output '{}' the shape {}, expected {}",
                                                     kOutputName, got_out, expected_out));
  }
  const auto declared_out = describe_shape(model.graph().output(0).type());
  if (declared_out != expected_out) {
    throw_error(ErrorKind::ExportFailed,
                fmt::format("output '{}' is declared {}, expected {}", kOutputName, declared_out, expected_out));
  }
}

}  // namespace pt2onnx::exporter
