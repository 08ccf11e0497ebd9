#include "exporter/lowering_context.h"

#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx::exporter {

// Initializers are stored as raw little-endian bytes, which is what ONNX requires.
static_assert(std::endian::native == std::endian::little, "raw_data must be little-endian");

LoweringContext::LoweringContext(const nn::LayerGraph& graph, const LoweringPlan& plan, int opset,
                                 onnx::GraphProto& out)
    : graph_(graph), plan_(plan), opset_(opset), out_(out) {}

std::size_t LoweringContext::layer_index(const nn::Layer& layer) const {
  // Layers live in one vector, so identity is position; this also rejects a
  // layer from some other graph instead of reading a wrong plan entry.
  const auto* first = graph_.layers.data();
  if (&layer < first || &layer >= first + graph_.layers.size()) {
    throw_error(ErrorKind::Internal, "layer " + layer.path + " does not belong to the graph being lowered");
  }
  return static_cast<std::size_t>(&layer - first);
}

const std::string& LoweringContext::input_name(const nn::Layer& layer, std::size_t i) const {
  const auto v = plan_.canonical.at(static_cast<std::size_t>(layer.inputs.at(i)));
  return plan_.value_names.at(static_cast<std::size_t>(v));
}

const std::string& LoweringContext::output_name(const nn::Layer& layer) const {
  // A Conv with a folded BatchNorm produces the BatchNorm's output directly.
  if (const auto* bn = folded_batch_norm(layer)) return output_name(*bn);
  const auto v = plan_.canonical.at(static_cast<std::size_t>(layer.output));
  return plan_.value_names.at(static_cast<std::size_t>(v));
}

const nn::Layer* LoweringContext::folded_batch_norm(const nn::Layer& conv) const {
  const auto& folded = plan_.folded_batch_norm.at(layer_index(conv));
  return folded ? &graph_.layers[*folded] : nullptr;
}

bool LoweringContext::has_param(const nn::Layer& layer, const std::string& local_name) const {
  return layer.params.contains(local_name);
}

const Tensor& LoweringContext::param(const nn::Layer& layer, const std::string& local_name) const {
  const auto key = nn::state_key(layer.path, local_name);
  const auto it = layer.params.find(local_name);
  if (it == layer.params.end()) {
    throw_error(ErrorKind::ExportFailed,
                fmt::format("parameter {} is not bound (was the graph bound to a checkpoint?)", key));
  }
  for (const auto& spec : layer.expected_params()) {
    if (spec.local_name != local_name) continue;
    if (it->second.shape() != spec.shape) {
      throw_error(ErrorKind::ExportFailed,
                  fmt::format("parameter {} has shape {}, expected {}", key, shape_to_string(it->second.shape()),
                              shape_to_string(spec.shape)));
    }
  }
  if (it->second.dtype() != DType::Float32) {
    throw_error(ErrorKind::ExportFailed,
                fmt::format("parameter {} is {}, expected float32", key, dtype_name(it->second.dtype())));
  }
  return it->second;
}

onnx::NodeProto& LoweringContext::add_node(std::string_view op_type, std::string name, std::vector<std::string> inputs,
                                           std::vector<std::string> outputs) {
  auto* node = out_.add_node();
  node->set_op_type(std::string(op_type));
  node->set_name(std::move(name));
  for (auto& in : inputs) node->add_input(std::move(in));
  for (auto& o : outputs) node->add_output(std::move(o));
  return *node;
}

std::string LoweringContext::add_initializer(std::string name, const Shape& shape, std::span<const float> values) {
  if (static_cast<std::int64_t>(values.size()) != shape_numel(shape)) {
    throw_error(ErrorKind::Internal,
                fmt::format("initializer {} has {} values for shape {}", name, values.size(), shape_to_string(shape)));
  }
  auto* t = out_.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto_DataType_FLOAT);
  for (auto d : shape) t->add_dims(d);
  t->set_raw_data(values.data(), values.size_bytes());
  return name;
}

std::string LoweringContext::add_initializer(std::string name, const Tensor& tensor) {
  return add_initializer(std::move(name), tensor.shape(), tensor.f32());
}

std::string LoweringContext::add_int64_initializer(std::string name, const std::vector<std::int64_t>& values) {
  auto* t = out_.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto_DataType_INT64);
  t->add_dims(static_cast<std::int64_t>(values.size()));
  for (auto v : values) t->add_int64_data(v);
  return name;
}

std::string LoweringContext::add_int64_scalar(std::string name, std::int64_t value) {
  auto* t = out_.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto_DataType_INT64);
  t->add_int64_data(value);
  return name;
}

void set_int_attr(onnx::NodeProto& node, std::string name, std::int64_t value) {
  auto* a = node.add_attribute();
  a->set_name(std::move(name));
  a->set_type(onnx::AttributeProto_AttributeType_INT);
  a->set_i(value);
}

void set_float_attr(onnx::NodeProto& node, std::string name, float value) {
  auto* a = node.add_attribute();
  a->set_name(std::move(name));
  a->set_type(onnx::AttributeProto_AttributeType_FLOAT);
  a->set_f(value);
}

void set_ints_attr(onnx::NodeProto& node, std::string name, std::vector<std::int64_t> values) {
  auto* a = node.add_attribute();
  a->set_name(std::move(name));
  a->set_type(onnx::AttributeProto_AttributeType_INTS);
  for (auto v : values) a->add_ints(v);
}

}  // namespace pt2onnx::exporter
