// Shape and Cast: computations on shapes and constants, evaluated once their
// inputs are known (constant_eval.cpp), never run as kernels. Rules in
// shape.cpp.
#pragma once

#include <array>
#include <vector>

#include "runtime/op_def.h"

namespace pt2onnx::runtime {

std::vector<OutputInfo> infer_shape_op(const Graph& g, const Node& n);
std::vector<OutputInfo> infer_cast(const Graph& g, const Node& n);
std::vector<Tensor> eval_shape(const Graph& g, const Node& n);
std::vector<Tensor> eval_cast(const Graph& g, const Node& n);

// Never run per image: on shapes, batch_split skips them; on a computed tensor
// they are refused.
inline constexpr std::array kShapeOps{
    OpDef{.op = OpType::Shape,
          .name = "Shape",
          .shape = infer_shape_op,
          .batch_rows = rows_mixed,
          .evaluate = eval_shape,
          .reads_dims_only = true},
    OpDef{.op = OpType::Cast, .name = "Cast", .shape = infer_cast, .batch_rows = rows_mixed, .evaluate = eval_cast},
};

}  // namespace pt2onnx::runtime
