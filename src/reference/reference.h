// The verification oracle: a forward pass straight from the bound layer graph,
// with PyTorch's eval-mode semantics, in plain loops with double accumulation.
// Shares no kernels with the runtime and no code with the exporter.
#pragma once

#include <optional>
#include <string>

#include "nn/layer_graph.h"
#include "pt2onnx/tensor.h"

namespace pt2onnx::reference {

// A second float32 evaluation that rounds differently: in rows from
// `first_row` on, the input and every layer's rounded result are moved by a
// few ulps, all values of one channel of one image the same way, up or down
// by a seeded coin flip (so the run repeats). A float32 engine's differences
// from the reference are like that: folded BatchNorm weights are rounded once
// per channel and used at every position, an exp approximation errs alike on
// alike values, and flat image regions repeat the same rounding. The size is
// a float32 sum's own error for the layer: one ulp for an elementwise layer,
// sqrt(terms) ulps for a sum of that many terms (convolution, Linear,
// average pool). How far that moves the logits is the probe's float32 spread
// (docs/verification.md).
struct RoundingNoise {
  std::uint64_t seed = 0;
  std::int64_t first_row = 0;
};

// input: float32 [N, C, H, W]; returns float32 [N, num_outputs]. A batch of at
// least as many images as there are cores runs image by image, each whole
// image on one core (no thread waits for another between layers); a smaller
// one runs layer by layer, each layer split across the cores. Both give the
// same bits, noise included.
Tensor forward(const nn::LayerGraph& graph, const Tensor& input, const RoundingNoise* noise = nullptr);

// Where NaN or inf first appears when the graph runs on `input`: the first
// layer (in order) whose parameters hold a non-finite value, else the first
// layer whose output does ("features.3.0.block.0.0 (Conv2d)"), with what it
// is. nullopt when the whole run stays finite.
std::optional<std::string> first_non_finite(const nn::LayerGraph& graph, const Tensor& input);

// Moves each finite, non-zero element of rows [first_row, N) of t by `ulps` units
// in the last place, towards or away from zero by one coin flip per plane (an
// image's channel of [N, C, H, W], an image's feature across its tokens of
// [N, L, D], a value of [N, K]) seeded by (seed, stream)
// and the plane's place in the whole batch, whose row 0 is t's row
// `row_base`. Exposed for its tests.
void add_rounding_noise(Tensor& t, std::int64_t first_row, std::uint32_t ulps, std::uint64_t seed, std::uint64_t stream,
                        std::int64_t row_base = 0);

// Sets every BatchNorm's running statistics to the statistics of its input over
// this batch (what PyTorch's train mode records after one batch with momentum
// None), layer by layer, so that a network with random weights keeps its
// activations at the scale a trained one has. Used for demo checkpoints.
void calibrate_batch_norm(nn::LayerGraph& graph, const Tensor& input);

}  // namespace pt2onnx::reference
