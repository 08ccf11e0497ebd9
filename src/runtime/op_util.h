// Small helpers shared by shape inference, constant evaluation, passes and
// kernels: reading constant operands, axes, broadcasting.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "runtime/graph.h"

namespace pt2onnx::runtime {

// The integers of an int64/int32 constant (any rank, row-major); nullopt when
// the value is not a constant. Throws Error(BadInput) for another dtype.
std::optional<std::vector<std::int64_t>> constant_ints(const Graph& g, ValueId v);
// A one-element float constant; nullopt if not constant or not one element.
std::optional<float> constant_scalar(const Graph& g, ValueId v);

// axis in [-rank, rank) -> [0, rank); throws Error(BadInput) naming `what`.
std::int64_t normalize_axis(std::int64_t axis, std::int64_t rank, std::string_view what);

// Numpy-style (multidirectional) broadcasting; throws Error(BadInput).
Dims broadcast_dims(const Dims& a, const Dims& b);
std::vector<std::int64_t> broadcast_shapes(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b);

// Where each output row (the last axis) of a numpy broadcast reads a dense
// row-major input: its first element per row, and the step along the row (0
// when the input's last axis is broadcast, else 1). Rank-0 output: one row of
// one element. Throws Error(BadInput) when `in` does not broadcast to `out`.
struct BroadcastRows {
  std::vector<std::int64_t> row_start;
  std::int64_t row_length = 1;
  std::int64_t step = 1;
};
BroadcastRows broadcast_rows(const std::vector<std::int64_t>& in, const std::vector<std::int64_t>& out);

// Calls fn(output index, index in each input) over the broadcast output
// `out`, walking it in row-major order; each input must broadcast to it.
template <std::size_t N, typename Fn>
void for_each_broadcast(const std::array<const Tensor*, N>& in, const Shape& out, Fn&& fn) {
  std::array<BroadcastRows, N> maps;
  for (std::size_t k = 0; k < N; ++k) maps[k] = broadcast_rows(in[k]->shape(), out);
  const auto rows = maps[0].row_start.size();
  std::int64_t i = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::int64_t j = 0; j < maps[0].row_length; ++j, ++i) {
      std::array<std::int64_t, N> src{};
      for (std::size_t k = 0; k < N; ++k) src[k] = maps[k].row_start[r] + j * maps[k].step;
      fn(i, src);
    }
  }
}

// The product of dims[begin, end): known if all are, the symbol if exactly one
// symbol and the rest multiply to 1, unknown otherwise.
Dim dims_product(const Dims& dims, std::size_t begin, std::size_t end);

// Input i of node n, or kNoValue when it is omitted or past the end.
ValueId optional_input(const Node& n, std::size_t i);

// Whether the node's post-ops are exactly one plain ReLU (no slope): what a
// BatchNormalization's kernels apply in their own pass.
bool post_ops_are_one_relu(const Node& n);

// Whether Dropout's first output is its input: training_mode omitted or a
// constant false, or a constant ratio of 0 (nothing dropped, scale 1), as
// torch.onnx.export writes for a dropout of p=0 in a training-mode call.
bool dropout_is_identity(const Graph& g, const Node& n);

// The axes of Squeeze/Unsqueeze: an attribute before opset 13, an input after.
std::optional<std::vector<std::int64_t>> squeeze_axes(const Graph& g, const Node& n);

// Pad's begin and end pads per axis (constant mode only), from the input
// (opset 11+) or the attribute; nullopt when they are not constants.
struct PadSpec {
  std::vector<std::int64_t> begin, end;
  float value = 0.0f;
};
std::optional<PadSpec> pad_spec(const Graph& g, const Node& n, std::size_t rank);

// ReduceMean's reduced axes, normalised, sorted and unique: the 'axes'
// attribute before opset 18, input 1 from opset 18. No axes reduce every axis,
// or none with noop_with_empty_axes (an empty result). nullopt when the axes
// input is not a constant. Throws Error(BadInput) for an axis out of range or
// repeated.
std::optional<std::vector<std::int64_t>> reduce_axes(const Graph& g, const Node& n, std::size_t rank);

// Transpose's perm (default: the axes reversed); throws Error(BadInput) when
// it is not a permutation of [0, rank).
std::vector<std::int64_t> transpose_perm(const Node& n, std::size_t rank);

// The rank of a value whose dims are inferred.
std::int64_t value_rank(const Graph& g, ValueId v);

// Concrete dims of a value whose shape is fully known (plan time); throws Internal otherwise.
std::vector<std::int64_t> concrete_shape(const Graph& g, ValueId v);

}  // namespace pt2onnx::runtime

namespace pt2onnx::runtime {

// Slice's parameters, axes normalised; nullopt when they are not constants.
struct SliceParams {
  std::vector<std::int64_t> starts, ends, axes, steps;
};
std::optional<SliceParams> slice_params(const Graph& g, const Node& n, std::size_t rank);
// Clamps one axis's start/end as ONNX does; returns {first index, step, length}.
struct SliceRange {
  std::int64_t start = 0, step = 1, length = 0;
};
SliceRange resolve_slice_axis(std::int64_t start, std::int64_t end, std::int64_t step, std::int64_t dim);

}  // namespace pt2onnx::runtime
