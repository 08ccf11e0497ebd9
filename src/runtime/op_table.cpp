// The table of engine operators: each family's records (ops/*.h) at their
// OpType's index. The static_asserts below fail the build when an OpType has
// no record or two, or a record lacks a rule the engine needs.
#include <algorithm>
#include <array>

#include "runtime/op_def.h"
#include "runtime/ops/activation.h"
#include "runtime/ops/binary.h"
#include "runtime/ops/broadcast.h"
#include "runtime/ops/conv_pool.h"
#include "runtime/ops/einsum.h"
#include "runtime/ops/index.h"
#include "runtime/ops/layout.h"
#include "runtime/ops/math.h"
#include "runtime/ops/matmul.h"
#include "runtime/ops/normalization.h"
#include "runtime/ops/reshape.h"
#include "runtime/ops/shape.h"

namespace pt2onnx::runtime {
namespace {

constexpr std::size_t index_of(OpType op) { return static_cast<std::size_t>(op); }

template <std::size_t... Sizes>
constexpr std::array<OpDef, (Sizes + ...)> join(const std::array<OpDef, Sizes>&... families) {
  std::array<OpDef, (Sizes + ...)> all{};
  auto next = all.begin();
  ((next = std::copy(families.begin(), families.end(), next)), ...);
  return all;
}

// Every family of operators, once.
constexpr auto kRecords = join(kConvPoolOps, kNormalizationOps, kMatMulOps, kActivationOps, kBinaryOps, kLayoutOps,
                               kReshapeOps, kShapeOps, kBroadcastOps, kMathOps, kIndexOps, kEinsumOps);

constexpr bool each_op_has_one_record() {
  if (kRecords.size() != kOpTypeCount) return false;
  for (std::size_t i = 0; i < kOpTypeCount; ++i) {
    if (std::count_if(kRecords.begin(), kRecords.end(), [i](const OpDef& d) { return index_of(d.op) == i; }) != 1) {
      return false;
    }
  }
  return true;
}
static_assert(each_op_has_one_record(),
              "every OpType needs exactly one OpDef, in a family's list in ops/*.h joined into kRecords above");

constexpr std::array<OpDef, kOpTypeCount> by_op() {
  std::array<OpDef, kOpTypeCount> table{};
  for (const auto& d : kRecords) table[index_of(d.op)] = d;
  return table;
}

constexpr auto kTable = by_op();

constexpr bool in_order() {
  for (std::size_t i = 0; i < kOpTypeCount; ++i) {
    if (index_of(kTable[i].op) != i) return false;
  }
  return true;
}
static_assert(in_order());

// Every op has a name, a shape rule and a batch rule; one without a kernel is
// computed on shapes and constants, so it needs a constant evaluation.
constexpr bool complete() {
  return std::all_of(kTable.begin(), kTable.end(), [](const OpDef& d) {
    return !d.name.empty() && d.shape && d.batch_rows && (d.kernel || d.evaluate);
  });
}
static_assert(complete(), "an OpDef lacks its name, shape rule or batch rule, or both kernel and constant evaluation");

}  // namespace

const OpDef& op_def(OpType op) {
  const auto i = index_of(op);
  if (i >= kOpTypeCount) throw_error(ErrorKind::Internal, "not an operator");
  return kTable[i];
}

std::string_view op_type_name(OpType op) {
  const auto i = index_of(op);
  return i < kOpTypeCount ? kTable[i].name : "?";
}

std::optional<OpType> op_type_from_onnx(std::string_view domain, std::string_view name) {
  if (!domain.empty() && domain != "ai.onnx") return std::nullopt;
  for (const auto& d : kTable) {
    if (d.onnx && d.name == name) return d.op;
  }
  return std::nullopt;
}

bool is_shape_op(OpType op) { return op_def(op).evaluate != nullptr; }

bool is_elementwise_binary(OpType op) { return op_def(op).elementwise_binary; }

bool is_activation(OpType op) { return op_def(op).activation != nullptr; }

}  // namespace pt2onnx::runtime
