#include "runtime/shape_inference.h"

#include <fmt/format.h>

#include "runtime/op_util.h"
#include "runtime/tensor_proto.h"

namespace pt2onnx::runtime {
namespace {

// No tensor of a CNN classifier comes near this many elements (8 GiB of
// float32); a file asking for more is hostile or broken, and is refused
// before anything is allocated for it.
constexpr std::int64_t kMaxElements = std::int64_t{1} << 31;

void check_size(const Dims& dims) {
  std::int64_t n = 1;
  for (const auto& d : dims) {
    if (!d.is_known()) continue;
    if (d.value() != 0 && n > kMaxElements / d.value()) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("the output {} would have more than {} elements", dims_to_string(dims), kMaxElements));
    }
    n *= d.value();
  }
}

std::vector<OutputInfo> same_as_input(const Graph& g, const Node& n) {
  return {{g.value(n.inputs[0]).dtype, g.value(n.inputs[0]).dims}};
}

std::vector<OutputInfo> infer_binary(const Graph& g, const Node& n) {
  expect_arity(n, 2, 2);
  const auto& a = g.value(n.inputs[0]);
  const auto& b = g.value(n.inputs[1]);
  if (a.dtype != b.dtype) {
    throw_error(ErrorKind::BadInput,
                fmt::format("inputs have different dtypes ({} and {})", dtype_name(a.dtype), dtype_name(b.dtype)));
  }
  if (!a.dims || !b.dims) return {{a.dtype, std::nullopt}};
  return {{a.dtype, broadcast_dims(*a.dims, *b.dims)}};
}

std::vector<OutputInfo> infer_activation(const Graph& g, const Node& n) {
  expect_arity(n, 1, n.op == OpType::Clip ? 3 : 1);
  // Clip's bounds became inputs in opset 11; the ONNX checker refuses the old attributes.
  if (n.op == OpType::Clip && g.opset >= 11 && (n.attrs.has("min") || n.attrs.has("max"))) {
    throw_error(ErrorKind::BadInput, fmt::format("Clip has a '{}' attribute, which opset {} does not allow: since "
                                                 "opset 11 the bounds are inputs",
                                                 n.attrs.has("min") ? "min" : "max", g.opset));
  }
  return same_as_input(g, n);
}

std::vector<OutputInfo> infer_softmax(const Graph& g, const Node& n) {
  expect_arity(n, 1, 1);
  const auto& dims = input_dims(g, n, 0);
  if (dims)
    normalize_axis(n.attrs.get_int("axis", g.opset >= 13 ? -1 : 1), static_cast<std::int64_t>(dims->size()), "axis");
  return same_as_input(g, n);
}

std::vector<OutputInfo> infer_dropout(const Graph& g, const Node& n) {
  expect_arity(n, 1, 3);
  auto out = same_as_input(g, n);
  if (n.outputs.size() > 1) out.push_back({DType::Bool, g.value(n.inputs[0]).dims});
  return out;
}

std::vector<OutputInfo> infer_cast(const Graph& g, const Node& n) {
  expect_arity(n, 1, 1);
  const auto to = n.attrs.find_int("to");
  if (!to) throw_error(ErrorKind::BadInput, "Cast has no 'to' attribute");
  const auto dtype = dtype_from_onnx(static_cast<std::int32_t>(*to));
  if (!dtype)
    throw_error(ErrorKind::Unsupported,
                fmt::format("Cast to {} is not supported", onnx_elem_type_name(static_cast<std::int32_t>(*to))));
  return {{*dtype, g.value(n.inputs[0]).dims}};
}

std::vector<OutputInfo> infer_node(const Graph& g, const Node& n) {
  switch (n.op) {
    case OpType::Conv:
      return infer_conv(g, n);
    case OpType::BatchNormalization:
      return infer_batch_norm(g, n);
    case OpType::Relu:
    case OpType::Clip:
    case OpType::Sigmoid:
    case OpType::HardSigmoid:
    case OpType::HardSwish:
    case OpType::Swish:
    case OpType::Gelu:
    case OpType::Erf:
      return infer_activation(g, n);
    case OpType::Add:
    case OpType::Sub:
    case OpType::Mul:
    case OpType::Div:
      return infer_binary(g, n);
    case OpType::GlobalAveragePool:
      return infer_global_pool(g, n);
    case OpType::AveragePool:
    case OpType::MaxPool:
      return infer_pool(g, n);
    case OpType::Gemm:
      return infer_gemm(g, n);
    case OpType::MatMul:
      return infer_matmul(g, n);
    case OpType::Concat:
      return infer_concat(g, n);
    case OpType::Softmax:
      return infer_softmax(g, n);
    case OpType::Flatten:
      return infer_flatten(g, n);
    case OpType::Reshape:
      return infer_reshape(g, n);
    case OpType::Squeeze:
      return infer_squeeze(g, n);
    case OpType::Unsqueeze:
      return infer_unsqueeze(g, n);
    case OpType::Identity:
      expect_arity(n, 1, 1);
      return same_as_input(g, n);
    case OpType::Dropout:
      return infer_dropout(g, n);
    case OpType::Shape:
      return infer_shape_op(g, n);
    case OpType::Gather:
      return infer_gather(g, n);
    case OpType::Cast:
      return infer_cast(g, n);
    case OpType::Slice:
      return infer_slice(g, n);
    case OpType::Pad:
      return infer_pad(g, n);
    case OpType::Transpose:
      return infer_transpose(g, n);
    case OpType::ReduceMean:
      return infer_reduce_mean(g, n);
    case OpType::LayerNormalization:
      return infer_layer_norm(g, n);
  }
  throw_error(ErrorKind::Internal, "no shape rule");
}

}  // namespace

void expect_arity(const Node& n, std::size_t min_inputs, std::size_t max_inputs) {
  // Operands of sum and bias post-ops sit after the operator's own inputs.
  std::size_t given = n.inputs.size();
  for (const auto& p : n.post_ops) given -= p.kind != PostOpKind::Activation ? 1 : 0;
  // Trailing omitted optional inputs do not count.
  while (given > 0 && n.inputs[given - 1] == kNoValue) --given;
  if (given < min_inputs || given > max_inputs) {
    throw_error(ErrorKind::BadInput,
                min_inputs == max_inputs
                    ? fmt::format("has {} inputs, expected {}", given, min_inputs)
                    : fmt::format("has {} inputs, expected {} to {}", given, min_inputs, max_inputs));
  }
  for (std::size_t i = 0; i < min_inputs; ++i) {
    if (n.inputs[i] == kNoValue) throw_error(ErrorKind::BadInput, fmt::format("required input {} is missing", i));
  }
}

const MaybeDims& input_dims(const Graph& g, const Node& n, std::size_t i) { return g.value(n.inputs.at(i)).dims; }

void infer_node_shapes(Graph& g, NodeId id) {
  auto& n = g.node(id);
  with_error_context(g.describe(id), [&] {
    if (n.outputs.empty()) throw_error(ErrorKind::BadInput, "has no outputs");
    auto outs = infer_node(g, n);
    // Outputs past those the rule knows (e.g. MaxPool's Indices) stay unknown.
    for (std::size_t i = 0; i < n.outputs.size(); ++i) {
      auto& v = g.value(n.outputs[i]);
      if (i < outs.size()) {
        if (outs[i].dims) check_size(*outs[i].dims);
        v.dtype = outs[i].dtype;
        v.dims = std::move(outs[i].dims);
      } else {
        v.dims.reset();
      }
    }
  });
}

void infer_shapes(Graph& g) {
  for (auto id : g.order()) infer_node_shapes(g, id);
}

}  // namespace pt2onnx::runtime
