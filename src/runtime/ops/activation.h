// The activations (Relu, Clip, Sigmoid, HardSigmoid, HardSwish, Tanh, and the
// engine's own Swish and Gelu), which a Conv, Gemm, MatMul or binary op can
// take as a post-op, and Erf. Rules in activation.cpp; kernels in
// kernels/eltwise.cpp.
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "runtime/kernels/kernels.h"
#include "runtime/op_def.h"

namespace pt2onnx::runtime {

std::vector<OutputInfo> infer_activation(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_clip(const Graph& g, const Node& n);
std::optional<Activation> hard_sigmoid_activation(const Graph& g, const Node& n);
std::optional<Activation> clip_activation(const Graph& g, const Node& n);
void check_clip_support(const Graph& g, const Node& n, const std::vector<bool>& known);

// An activation without parameters.
template <ActivationKind Kind>
std::optional<Activation> plain_activation(const Graph& /*g*/, const Node& /*n*/) {
  Activation a;
  a.kind = Kind;
  return a;
}

inline constexpr std::array kActivationOps{
    OpDef{.op = OpType::Relu,
          .name = "Relu",
          .shape = infer_activation,
          .kernel = build_activation,
          .batch_rows = rows_kept_apart_if_inputs_batched,
          .activation = plain_activation<ActivationKind::Relu>},
    OpDef{.op = OpType::Clip,
          .name = "Clip",
          .shape = infer_clip,
          .kernel = build_activation,
          .batch_rows = rows_kept_apart_if_inputs_batched,
          .parameter_inputs = 1,
          .support = check_clip_support,
          .activation = clip_activation},
    OpDef{.op = OpType::Sigmoid,
          .name = "Sigmoid",
          .shape = infer_activation,
          .kernel = build_activation,
          .batch_rows = rows_kept_apart_if_inputs_batched,
          .activation = plain_activation<ActivationKind::Sigmoid>},
    OpDef{.op = OpType::HardSigmoid,
          .name = "HardSigmoid",
          .shape = infer_activation,
          .kernel = build_activation,
          .batch_rows = rows_kept_apart_if_inputs_batched,
          .activation = hard_sigmoid_activation},
    OpDef{.op = OpType::HardSwish,
          .name = "HardSwish",
          .shape = infer_activation,
          .kernel = build_activation,
          .batch_rows = rows_kept_apart_if_inputs_batched,
          .activation = plain_activation<ActivationKind::HardSwish>},
    // Made by fuse_swish from x * Sigmoid(x).
    OpDef{.op = OpType::Swish,
          .name = "Swish",
          .onnx = false,
          .shape = infer_activation,
          .kernel = build_activation,
          .batch_rows = rows_kept_apart_if_inputs_batched,
          .activation = plain_activation<ActivationKind::Swish>},
    // Made by fuse_gelu from the erf GELU.
    OpDef{.op = OpType::Gelu,
          .name = "Gelu",
          .onnx = false,
          .shape = infer_activation,
          .kernel = build_activation,
          .batch_rows = rows_kept_apart_if_inputs_batched,
          .activation = plain_activation<ActivationKind::Gelu>},
    OpDef{.op = OpType::Tanh,
          .name = "Tanh",
          .shape = infer_activation,
          .kernel = build_activation,
          .batch_rows = rows_kept_apart_if_inputs_batched,
          .activation = plain_activation<ActivationKind::Tanh>},
    OpDef{.op = OpType::Erf,
          .name = "Erf",
          .shape = infer_activation,
          .kernel = build_erf,
          .batch_rows = rows_kept_apart_if_inputs_batched},
};

}  // namespace pt2onnx::runtime
