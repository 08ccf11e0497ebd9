// What a per-layer lowering function sees: the plan's tensor names, the bound
// parameters, and append-only access to the ONNX graph being built.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/lowering_plan.h"
#include "nn/layer_graph.h"
#include "onnx/onnx_pb.h"
#include "pt2onnx/tensor.h"

namespace pt2onnx::exporter {

class LoweringContext {
 public:
  LoweringContext(const nn::LayerGraph& graph, const LoweringPlan& plan, int opset, onnx::GraphProto& out);

  [[nodiscard]] int opset() const { return opset_; }
  [[nodiscard]] const nn::LayerGraph& graph() const { return graph_; }

  // ONNX tensor names of a layer's i-th input and of its output.
  [[nodiscard]] const std::string& input_name(const nn::Layer& layer, std::size_t i) const;
  [[nodiscard]] const std::string& output_name(const nn::Layer& layer) const;
  // The BatchNorm folded into this Conv2d, or nullptr.
  [[nodiscard]] const nn::Layer* folded_batch_norm(const nn::Layer& conv) const;

  // A bound float32 parameter; Error(ExportFailed) naming the key when the graph
  // was not bound or the shape is not what the layer's attributes imply.
  [[nodiscard]] const Tensor& param(const nn::Layer& layer, const std::string& local_name) const;
  [[nodiscard]] bool has_param(const nn::Layer& layer, const std::string& local_name) const;

  onnx::NodeProto& add_node(std::string_view op_type, std::string name, std::vector<std::string> inputs,
                            std::vector<std::string> outputs);
  // Adds a float32 initializer; returns its name.
  std::string add_initializer(std::string name, const Shape& shape, std::span<const float> values);
  std::string add_initializer(std::string name, const Tensor& tensor);
  // Adds a 1-D int64 initializer (Slice's starts, Reshape's shape); returns its name.
  std::string add_int64_initializer(std::string name, const std::vector<std::int64_t>& values);
  // Adds a scalar int64 initializer (Gather's index that drops its axis); returns its name.
  std::string add_int64_scalar(std::string name, std::int64_t value);

 private:
  [[nodiscard]] std::size_t layer_index(const nn::Layer& layer) const;

  const nn::LayerGraph& graph_;
  const LoweringPlan& plan_;
  int opset_;
  onnx::GraphProto& out_;
};

// Attribute setters; ONNX attributes are typed, so one per type we use.
void set_int_attr(onnx::NodeProto& node, std::string name, std::int64_t value);
void set_float_attr(onnx::NodeProto& node, std::string name, float value);
void set_ints_attr(onnx::NodeProto& node, std::string name, std::vector<std::int64_t> values);

}  // namespace pt2onnx::exporter
