// The table of engine operators (op_table.cpp) at run time: every OpType's
// record sits at its index and round-trips through its ONNX name, and the
// categories the generic code reads from it are the sets ONNX and
// docs/runtime.md define.
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "runtime/op_def.h"

namespace pt2onnx::testing {
namespace {

using runtime::OpType;

std::vector<OpType> all_ops() {
  std::vector<OpType> ops;
  for (std::size_t i = 0; i < runtime::kOpTypeCount; ++i) ops.push_back(static_cast<OpType>(i));
  return ops;
}

// The ops of the table for which `has` holds.
template <typename Predicate>
std::set<OpType> ops_where(Predicate has) {
  std::set<OpType> ops;
  for (auto op : all_ops()) {
    if (has(op)) ops.insert(op);
  }
  return ops;
}

TEST(OpTable, EachRecordSitsAtItsOpType) {
  for (auto op : all_ops()) {
    EXPECT_EQ(runtime::op_def(op).op, op) << static_cast<int>(op);
    EXPECT_FALSE(runtime::op_def(op).name.empty()) << static_cast<int>(op);
    EXPECT_EQ(runtime::op_type_name(op), runtime::op_def(op).name);
  }
  EXPECT_EQ(runtime::op_type_name(OpType::Count), "?");
}

TEST(OpTable, NamesRoundTrip) {
  std::set<std::string> names;
  for (auto op : all_ops()) {
    const auto name = std::string(runtime::op_type_name(op));
    EXPECT_TRUE(names.insert(name).second) << name << " names two ops";
    if (!runtime::op_def(op).onnx) {
      EXPECT_EQ(runtime::op_type_from_onnx("", name), std::nullopt) << name << " is internal to the engine";
      continue;
    }
    EXPECT_EQ(runtime::op_type_from_onnx("", name), op) << name;
    EXPECT_EQ(runtime::op_type_from_onnx("ai.onnx", name), op) << name;
    EXPECT_EQ(runtime::op_type_from_onnx("com.microsoft", name), std::nullopt) << name;
  }
  EXPECT_EQ(runtime::op_type_from_onnx("", "Elu"), std::nullopt);
  EXPECT_EQ(runtime::op_type_from_onnx("", "relu"), std::nullopt);
  EXPECT_EQ(runtime::op_type_from_onnx("", "Conv"), OpType::Conv);
  EXPECT_EQ(runtime::op_type_from_onnx("", "BatchNormalization"), OpType::BatchNormalization);
}

TEST(OpTable, OnlyTheFusedOpsAreInternal) {
  // Swish, Gelu, Attention and NormalizedConcat are made by the fuse_swish, fuse_gelu, fuse_attention and
  // fuse_concat_norm passes; ONNX opsets 7 to 18 define none of them.
  EXPECT_EQ(ops_where([](OpType op) { return !runtime::op_def(op).onnx; }),
            (std::set<OpType>{OpType::Swish, OpType::Gelu, OpType::Attention, OpType::NormalizedConcat}));
}

TEST(OpTable, Categories) {
  EXPECT_EQ(ops_where(runtime::is_elementwise_binary),
            (std::set<OpType>{OpType::Add, OpType::Sub, OpType::Mul, OpType::Div}));
  // Erf is elementwise but no oneDNN eltwise algorithm computes it, so no producer can take it.
  EXPECT_EQ(ops_where(runtime::is_activation),
            (std::set<OpType>{OpType::Relu, OpType::Clip, OpType::Sigmoid, OpType::HardSigmoid, OpType::HardSwish,
                              OpType::Swish, OpType::Gelu, OpType::Tanh}));
  // fuse_activation's producers: a convolution, a matrix product, a binary op, or a BatchNormalization (its
  // ReLU in the same pass, kept when fuse_concat_norm makes it a NormalizedConcat).
  EXPECT_EQ(ops_where([](OpType op) { return runtime::op_def(op).takes_activation; }),
            (std::set<OpType>{OpType::Conv, OpType::Gemm, OpType::MatMul, OpType::Add, OpType::Sub, OpType::Mul,
                              OpType::Div, OpType::BatchNormalization, OpType::NormalizedConcat}));
  // Shape, Cast, ConstantOfShape, Equal, Not and Range are computed on shapes and constants only.
  EXPECT_EQ(ops_where([](OpType op) { return runtime::op_def(op).kernel == nullptr; }),
            (std::set<OpType>{OpType::Shape, OpType::Cast, OpType::ConstantOfShape, OpType::Equal, OpType::Not,
                              OpType::Range}));
  EXPECT_EQ(ops_where([](OpType op) { return runtime::op_def(op).reads_dims_only; }),
            (std::set<OpType>{OpType::Shape}));
  // What torch.onnx.export's shape computations use: the views, Shape, Gather, Cast, Slice, Concat, Transpose,
  // small int arithmetic, x.expand(n, -1, -1)'s ConstantOfShape, Equal, Where and Expand, and Swin's window
  // mask and relative positions' Mod, Pow, Not, Range and ScatterND.
  EXPECT_EQ(ops_where(runtime::is_shape_op), (std::set<OpType>{OpType::Shape,
                                                               OpType::Gather,
                                                               OpType::Cast,
                                                               OpType::Slice,
                                                               OpType::Squeeze,
                                                               OpType::Unsqueeze,
                                                               OpType::Concat,
                                                               OpType::Reshape,
                                                               OpType::Flatten,
                                                               OpType::Identity,
                                                               OpType::Dropout,
                                                               OpType::Transpose,
                                                               OpType::Add,
                                                               OpType::Sub,
                                                               OpType::Mul,
                                                               OpType::Div,
                                                               OpType::ConstantOfShape,
                                                               OpType::Equal,
                                                               OpType::Expand,
                                                               OpType::Where,
                                                               OpType::Mod,
                                                               OpType::Pow,
                                                               OpType::Not,
                                                               OpType::Range,
                                                               OpType::ScatterND}));
  for (auto op : all_ops()) {
    const auto& d = runtime::op_def(op);
    EXPECT_TRUE(d.kernel || d.evaluate) << d.name << " can be neither run nor evaluated";
    EXPECT_NE(d.shape, nullptr) << d.name;
    EXPECT_NE(d.batch_rows, nullptr) << d.name;
  }
}

TEST(OpTable, ParameterInputs) {
  // Inputs that configure the op: Clip's bounds, Pad's pads, Slice's starts to steps, Dropout's ratio and
  // training_mode, and the axes, shape or indices of the others.
  for (auto op : {OpType::Clip, OpType::Pad, OpType::Slice, OpType::Dropout, OpType::Gather, OpType::Reshape,
                  OpType::Squeeze, OpType::Unsqueeze, OpType::ReduceMean, OpType::Expand}) {
    EXPECT_EQ(runtime::op_def(op).parameter_inputs, 1u) << runtime::op_type_name(op);
  }
  for (auto op :
       {OpType::Conv, OpType::Gemm, OpType::MatMul, OpType::Add, OpType::Concat, OpType::LayerNormalization,
        OpType::BatchNormalization, OpType::Where, OpType::Mod, OpType::Pow, OpType::ScatterND, OpType::Einsum}) {
    EXPECT_EQ(runtime::op_def(op).parameter_inputs, runtime::kNoParameterInputs) << runtime::op_type_name(op);
  }
}

}  // namespace
}  // namespace pt2onnx::testing
