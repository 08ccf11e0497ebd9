#include "reference/reference.h"

#include <memory>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "reference/ops.h"

namespace pt2onnx::reference {
namespace {

using nn::Layer;
using nn::LayerKind;

// Values are shared so that eval-mode identities (Dropout, StochasticDepth) cost nothing.
using Value = std::shared_ptr<const Tensor>;

const Tensor& param(const Layer& layer, const std::string& name) {
  const auto it = layer.params.find(name);
  if (it == layer.params.end()) {
    throw Error(ErrorKind::Internal,
                fmt::format("parameter '{}' is not bound (bind the graph before running it)", name));
  }
  return it->second;
}

const Tensor* optional_param(const Layer& layer, const std::string& name, bool expected) {
  return expected ? &param(layer, name) : nullptr;
}

std::size_t arity(LayerKind kind) { return kind == LayerKind::Mul || kind == LayerKind::Add ? 2 : 1; }

Value run_layer(const Layer& layer, const std::vector<const Tensor*>& in, const Value& first) {
  const Tensor& x = *in[0];
  switch (layer.kind) {
    case LayerKind::Conv2d: {
      const auto& a = layer.as<nn::Conv2dAttrs>();
      return std::make_shared<Tensor>(conv2d(x, param(layer, "weight"), optional_param(layer, "bias", a.bias), a));
    }
    case LayerKind::BatchNorm2d:
      return std::make_shared<Tensor>(batch_norm(x, param(layer, "weight"), param(layer, "bias"),
                                                 param(layer, "running_mean"), param(layer, "running_var"),
                                                 layer.as<nn::BatchNormAttrs>().eps));
    case LayerKind::ReLU:
    case LayerKind::SiLU:
    case LayerKind::Sigmoid:
    case LayerKind::Hardswish:
    case LayerKind::Hardsigmoid:
      return std::make_shared<Tensor>(activation(layer.kind, x));
    case LayerKind::AdaptiveAvgPool2d:
      return std::make_shared<Tensor>(adaptive_avg_pool_1x1(x));
    case LayerKind::MaxPool2d:
      return std::make_shared<Tensor>(max_pool2d(x, layer.as<nn::PoolAttrs>()));
    case LayerKind::Mul:
      return std::make_shared<Tensor>(mul_channels(x, *in[1]));
    case LayerKind::Add:
      return std::make_shared<Tensor>(add(x, *in[1]));
    case LayerKind::Flatten:
      return std::make_shared<Tensor>(flatten(x, layer.as<nn::FlattenAttrs>().start_dim));
    case LayerKind::Dropout:
    case LayerKind::StochasticDepth:
      return first;  // identities in eval mode
    case LayerKind::Linear: {
      const auto& a = layer.as<nn::LinearAttrs>();
      return std::make_shared<Tensor>(linear(x, param(layer, "weight"), optional_param(layer, "bias", a.bias)));
    }
  }
  throw Error(ErrorKind::Internal, "unknown layer kind");
}

void check_input(const nn::Graph& graph, const Tensor& input) {
  const bool ok = input.dtype() == DType::Float32 && input.rank() == 4 && input.dim(0) >= 1 &&
                  input.dim(1) == graph.input_channels && input.dim(2) >= 1 && input.dim(3) >= 1;
  if (!ok) {
    throw Error(ErrorKind::BadInput,
                fmt::format("input is {} {}; {} expects float32 [batch, {}, height, width] (trained at {}x{})",
                            dtype_name(input.dtype()), shape_to_string(input.shape()), graph.arch, graph.input_channels,
                            graph.input_size, graph.input_size));
  }
}

}  // namespace

Tensor forward(const nn::Graph& graph, const Tensor& input) {
  check_input(graph, input);
  const auto num_values = static_cast<std::size_t>(graph.num_values);
  // Free each activation after its last reader so that peak memory stays near two layers' worth.
  std::vector<std::size_t> last_use(num_values, 0);
  for (std::size_t i = 0; i < graph.layers.size(); ++i) {
    for (auto v : graph.layers[i].inputs) last_use.at(static_cast<std::size_t>(v)) = i;
  }
  std::vector<Value> values(num_values);
  values.at(static_cast<std::size_t>(graph.input)) = std::make_shared<Tensor>(input);

  for (std::size_t i = 0; i < graph.layers.size(); ++i) {
    const Layer& layer = graph.layers[i];
    with_error_context(fmt::format("layer {} ({})", layer.path, nn::layer_kind_name(layer.kind)), [&] {
      if (layer.inputs.size() != arity(layer.kind)) {
        throw Error(ErrorKind::Internal,
                    fmt::format("has {} inputs, expected {}", layer.inputs.size(), arity(layer.kind)));
      }
      std::vector<const Tensor*> in;
      for (auto v : layer.inputs) {
        const Value& value = values.at(static_cast<std::size_t>(v));
        if (!value) throw Error(ErrorKind::Internal, fmt::format("reads value {} before it is computed", v));
        in.push_back(value.get());
      }
      values.at(static_cast<std::size_t>(layer.output)) =
          run_layer(layer, in, values.at(static_cast<std::size_t>(layer.inputs[0])));
    });
    for (auto v : layer.inputs) {
      if (last_use[static_cast<std::size_t>(v)] == i && v != graph.output) values[static_cast<std::size_t>(v)].reset();
    }
  }
  const Value& out = values.at(static_cast<std::size_t>(graph.output));
  if (!out) throw Error(ErrorKind::Internal, "the graph's output is never computed");
  return *out;
}

}  // namespace pt2onnx::reference
