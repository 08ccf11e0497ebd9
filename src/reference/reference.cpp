#include "reference/reference.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "pt2onnx/error.h"
#include "reference/ops.h"
#include "reference/parallel.h"

namespace pt2onnx::reference {
namespace {

using nn::Layer;
using nn::LayerKind;

// Values are shared so that eval-mode identities (Dropout, StochasticDepth) cost nothing.
using Value = std::shared_ptr<Tensor>;

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

// `own_first` gives the first operand for an elementwise layer to overwrite;
// `then_silu`: a BatchNorm also applies the SiLU that reads it (see run()).
Value run_layer(const Layer& layer, const std::vector<const Tensor*>& in, const Value& first,
                const std::function<Tensor()>& own_first, bool then_silu) {
  const Tensor& x = *in[0];
  switch (layer.kind) {
    case LayerKind::Conv2d: {
      const auto& a = layer.as<nn::Conv2dAttrs>();
      return std::make_shared<Tensor>(conv2d(x, param(layer, "weight"), optional_param(layer, "bias", a.bias), a));
    }
    case LayerKind::BatchNorm2d:
      return std::make_shared<Tensor>(batch_norm(own_first(), param(layer, "weight"), param(layer, "bias"),
                                                 param(layer, "running_mean"), param(layer, "running_var"),
                                                 layer.as<nn::BatchNormAttrs>().eps, then_silu));
    case LayerKind::ReLU:
    case LayerKind::ReLU6:
    case LayerKind::SiLU:
    case LayerKind::Sigmoid:
    case LayerKind::Hardswish:
    case LayerKind::Hardsigmoid:
      return std::make_shared<Tensor>(activation(layer.kind, own_first()));
    case LayerKind::AdaptiveAvgPool2d: {
      const auto a = layer.adaptive_output();
      return std::make_shared<Tensor>(adaptive_avg_pool2d(x, a.output[0], a.output[1]));
    }
    case LayerKind::MaxPool2d:
      return std::make_shared<Tensor>(max_pool2d(x, layer.as<nn::PoolAttrs>()));
    case LayerKind::AvgPool2d:
      return std::make_shared<Tensor>(avg_pool2d(x, layer.as<nn::PoolAttrs>()));
    case LayerKind::Concat:
      return std::make_shared<Tensor>(concat_channels(in));
    case LayerKind::Mul:
      return std::make_shared<Tensor>(mul_channels(own_first(), *in[1]));
    case LayerKind::Add:
      return std::make_shared<Tensor>(add(own_first(), *in[1]));
    case LayerKind::ChannelAffine: {
      const auto& a = layer.as<nn::ChannelAffineAttrs>();
      return std::make_shared<Tensor>(channel_affine(own_first(), a.scale, a.shift));
    }
    case LayerKind::ChannelSlice: {
      const auto& a = layer.as<nn::ChannelSliceAttrs>();
      return std::make_shared<Tensor>(channel_slice(x, a.begin, a.end));
    }
    case LayerKind::ChannelShuffle:
      return std::make_shared<Tensor>(channel_shuffle(x, layer.as<nn::ChannelShuffleAttrs>().groups));
    case LayerKind::LayerNorm2d:
      return std::make_shared<Tensor>(
          layer_norm_channels(x, param(layer, "weight"), param(layer, "bias"), layer.as<nn::LayerNormAttrs>().eps));
    case LayerKind::PointwiseLinear: {
      const auto& a = layer.as<nn::LinearAttrs>();
      return std::make_shared<Tensor>(
          pointwise_linear(x, param(layer, "weight"), optional_param(layer, "bias", a.bias)));
    }
    case LayerKind::GELU:
      return std::make_shared<Tensor>(activation(layer.kind, own_first()));
    case LayerKind::LayerScale:
      return std::make_shared<Tensor>(scale_channels(own_first(), param(layer, "layer_scale")));
    case LayerKind::PatchTokens:
      return std::make_shared<Tensor>(patch_tokens(x));
    case LayerKind::ClassToken:
      return std::make_shared<Tensor>(prepend_token(x, param(layer, "")));
    case LayerKind::PositionEmbedding:
      return std::make_shared<Tensor>(add_position_embedding(own_first(), param(layer, "")));
    case LayerKind::LayerNorm:
      return std::make_shared<Tensor>(
          layer_norm_tokens(x, param(layer, "weight"), param(layer, "bias"), layer.as<nn::LayerNormAttrs>().eps));
    case LayerKind::TokenLinear: {
      const auto& a = layer.as<nn::LinearAttrs>();
      return std::make_shared<Tensor>(token_linear(x, param(layer, "weight"), optional_param(layer, "bias", a.bias)));
    }
    case LayerKind::MultiheadAttention:
      return std::make_shared<Tensor>(multihead_attention(
          x, param(layer, "in_proj_weight"), param(layer, "in_proj_bias"), param(layer, "out_proj.weight"),
          param(layer, "out_proj.bias"), layer.as<nn::AttentionAttrs>().heads));
    case LayerKind::FirstToken:
      return std::make_shared<Tensor>(first_token(x));
    case LayerKind::WindowAttention:
      return std::make_shared<Tensor>(
          window_attention(x, layer.as<nn::WindowAttrs>(), param(layer, "relative_position_bias_table"),
                           param(layer, "relative_position_index"), param(layer, "qkv.weight"),
                           param(layer, "qkv.bias"), param(layer, "proj.weight"), param(layer, "proj.bias")));
    case LayerKind::PatchMerging:
      return std::make_shared<Tensor>(patch_merging(x, layer.as<nn::PatchMergingAttrs>(),
                                                    param(layer, "reduction.weight"), param(layer, "norm.weight"),
                                                    param(layer, "norm.bias")));
    case LayerKind::TokenMean:
      return std::make_shared<Tensor>(token_mean(x));
    case LayerKind::Partition:
      return std::make_shared<Tensor>(partition(x, layer.as<nn::PartitionAttrs>()));
    case LayerKind::Departition:
      return std::make_shared<Tensor>(departition(x, layer.as<nn::PartitionAttrs>()));
    case LayerKind::GroupAttention:
      return std::make_shared<Tensor>(
          group_attention(x, layer.as<nn::WindowAttrs>(), param(layer, "relative_position_bias_table"),
                          param(layer, "relative_position_index"), param(layer, "to_qkv.weight"),
                          param(layer, "to_qkv.bias"), param(layer, "merge.weight"), param(layer, "merge.bias")));
    case LayerKind::Tanh:
      return std::make_shared<Tensor>(activation(layer.kind, own_first()));
    case LayerKind::Flatten:
      return std::make_shared<Tensor>(flatten(x, layer.as<nn::FlattenAttrs>().start_dim));
    case LayerKind::Dropout:
    case LayerKind::StochasticDepth:
      return first;  // identities in eval mode
    case LayerKind::Linear: {
      const auto& a = layer.as<nn::LinearAttrs>();
      return std::make_shared<Tensor>(linear(x, param(layer, "weight"), optional_param(layer, "bias", a.bias)));
    }
    case LayerKind::Count:
      break;
  }
  throw Error(ErrorKind::Internal, "unknown layer kind");
}

// The ulps by which RoundingNoise moves a layer's results: about the error of
// a float32 sum of its terms (a random walk of one rounding per term), one for
// a single rounding, none for layers whose result is exact in any engine.
std::uint32_t rounding_ulps(const Layer& layer, const Tensor& x) {
  const auto sum_of = [](std::int64_t terms) {
    return static_cast<std::uint32_t>(std::max(1.0, std::round(std::sqrt(static_cast<double>(terms)))));
  };
  switch (layer.kind) {
    case LayerKind::Conv2d: {
      const auto& a = layer.as<nn::Conv2dAttrs>();
      return sum_of(a.in_channels / std::max<std::int64_t>(1, a.groups) * a.kernel[0] * a.kernel[1]);
    }
    case LayerKind::Linear:
    case LayerKind::PointwiseLinear:
    case LayerKind::TokenLinear:
      return sum_of(layer.as<nn::LinearAttrs>().in_features);
    case LayerKind::LayerNorm2d:
    case LayerKind::LayerNorm:
      return sum_of(layer.as<nn::LayerNormAttrs>().channels);
    case LayerKind::MultiheadAttention: {
      // four float32 sums one after another: the input projection and the
      // output projection over D terms, q k^T over D / heads, the weighted
      // sum of values over the sequence
      const auto& a = layer.as<nn::AttentionAttrs>();
      return sum_of(2 * a.dim + a.dim / std::max<std::int64_t>(a.heads, 1) + (x.rank() == 3 ? x.dim(1) : 1));
    }
    case LayerKind::WindowAttention: {
      // as MultiheadAttention's, over a window's tokens, plus the bias's addition
      const auto& a = layer.as<nn::WindowAttrs>();
      return sum_of(2 * a.dim + a.dim / std::max<std::int64_t>(a.heads, 1) + a.window * a.window + 1);
    }
    case LayerKind::GroupAttention: {
      const auto& a = layer.as<nn::WindowAttrs>();
      return sum_of(2 * a.dim + a.dim / std::max<std::int64_t>(a.heads, 1) + a.window * a.window + 1);
    }
    case LayerKind::Tanh:
      return 1;
    case LayerKind::Partition:
    case LayerKind::Departition:
      return 0;
    case LayerKind::PatchMerging:  // a LayerNorm over 4C, then a Linear over 4C
      return sum_of(8 * layer.as<nn::PatchMergingAttrs>().dim);
    case LayerKind::TokenMean:
      return sum_of(x.rank() == 3 ? x.dim(1) : 1);
    case LayerKind::PositionEmbedding:
      return 1;
    case LayerKind::PatchTokens:
    case LayerKind::ClassToken:
    case LayerKind::FirstToken:
      return 0;
    case LayerKind::AdaptiveAvgPool2d: {
      const auto a = layer.adaptive_output();
      // the largest window: ceil(L / n) cells along each axis
      const auto window = [](std::int64_t size, std::int64_t n) {
        return (size + n - 1) / std::max<std::int64_t>(n, 1);
      };
      return sum_of(x.rank() == 4 ? window(x.dim(2), a.output[0]) * window(x.dim(3), a.output[1]) : 1);
    }
    case LayerKind::AvgPool2d: {
      const auto& a = layer.as<nn::PoolAttrs>();
      return sum_of(a.kernel[0] * a.kernel[1]);
    }
    case LayerKind::BatchNorm2d:
    case LayerKind::SiLU:
    case LayerKind::Sigmoid:
    case LayerKind::Hardswish:
    case LayerKind::Hardsigmoid:
    case LayerKind::Mul:
    case LayerKind::Add:
    case LayerKind::ChannelAffine:
    case LayerKind::GELU:
    case LayerKind::LayerScale:
      return 1;
    case LayerKind::ReLU:
    case LayerKind::ReLU6:
    case LayerKind::MaxPool2d:
    case LayerKind::Concat:
    case LayerKind::ChannelSlice:
    case LayerKind::ChannelShuffle:
    case LayerKind::Flatten:
    case LayerKind::Dropout:
    case LayerKind::StochasticDepth:
      return 0;
    case LayerKind::Count:
      break;
  }
  return 1;
}

void check_input(const nn::LayerGraph& graph, const Tensor& input) {
  const bool ok = input.dtype() == DType::Float32 && input.rank() == 4 && input.dim(0) >= 1 &&
                  input.dim(1) == graph.input_channels && input.dim(2) >= 1 && input.dim(3) >= 1;
  if (!ok) {
    throw Error(ErrorKind::BadInput,
                fmt::format("input is {} {}; {} expects float32 [batch, {}, height, width] (trained at {}x{})",
                            dtype_name(input.dtype()), shape_to_string(input.shape()), graph.arch, graph.input_channels,
                            graph.input_size, graph.input_size));
  }
}

// Per-channel mean and unbiased variance of an [N, C, H, W] tensor, as the
// running statistics PyTorch keeps.
void set_batch_statistics(Layer& layer, const Tensor& x) {
  const auto n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
  Tensor mean(DType::Float32, {c});
  Tensor var(DType::Float32, {c});
  const auto data = x.f32();
  const double count = static_cast<double>(n * hw);
  for (std::int64_t ch = 0; ch < c; ++ch) {
    double sum = 0.0, sq = 0.0;
    for (std::int64_t b = 0; b < n; ++b) {
      const float* p = data.data() + (b * c + ch) * hw;
      for (std::int64_t i = 0; i < hw; ++i) {
        sum += p[i];
        sq += double(p[i]) * p[i];
      }
    }
    const double m = sum / count;
    mean.f32()[static_cast<std::size_t>(ch)] = static_cast<float>(m);
    var.f32()[static_cast<std::size_t>(ch)] =
        static_cast<float>(std::max(0.0, (sq - count * m * m) / std::max(1.0, count - 1.0)));
  }
  layer.params["running_mean"] = std::move(mean);
  layer.params["running_var"] = std::move(var);
}

// The eager loop; with `calibrate`, each BatchNorm's statistics are taken from
// its input just before it runs; with `noise`, its rows from noise->first_row
// on are rounded differently, input row 0 being row `row_base` of the batch.
bool all_finite(const Tensor& t) {
  if (t.dtype() != DType::Float32) return true;
  const auto v = t.f32();
  return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
}

// With `first_bad`, the first layer whose output is not all finite is named there.
Tensor run(const nn::LayerGraph& graph, const Tensor& input, nn::LayerGraph* calibrate, const RoundingNoise* noise,
           std::int64_t row_base = 0, std::optional<std::string>* first_bad = nullptr) {
  check_input(graph, input);
  const auto num_values = static_cast<std::size_t>(graph.num_values);
  // Free each activation after its last reader so that peak memory stays near two layers' worth.
  std::vector<std::size_t> last_use(num_values, 0);
  for (std::size_t i = 0; i < graph.layers.size(); ++i) {
    for (auto v : graph.layers[i].inputs) last_use.at(static_cast<std::size_t>(v)) = i;
  }
  std::vector<Value> values(num_values);
  values.at(static_cast<std::size_t>(graph.input)) = std::make_shared<Tensor>(input);
  const auto input_stream = static_cast<std::uint64_t>(graph.layers.size());
  if (noise != nullptr) {
    add_rounding_noise(*values[static_cast<std::size_t>(graph.input)], noise->first_row, 1, noise->seed, input_stream,
                       row_base);
  }

  for (std::size_t i = 0; i < graph.layers.size(); ++i) {
    const Layer& layer = graph.layers[i];
    // EfficientNet's BatchNorm -> SiLU pairs run as one pass over the tensor
    // (each still rounds to float32, so the results are the same), when the
    // SiLU is the BatchNorm output's only reader.
    const bool then_silu = layer.kind == LayerKind::BatchNorm2d && i + 1 < graph.layers.size() &&
                           graph.layers[i + 1].kind == LayerKind::SiLU &&
                           graph.layers[i + 1].inputs == std::vector<nn::ValueId>{layer.output} &&
                           last_use[static_cast<std::size_t>(layer.output)] == i + 1 && layer.output != graph.output;
    const nn::ValueId result = then_silu ? graph.layers[i + 1].output : layer.output;
    with_error_context(fmt::format("layer {} ({})", layer.path, nn::layer_kind_name(layer.kind)), [&] {
      if (!nn::input_count_fits(layer.kind, layer.inputs.size())) {
        throw Error(ErrorKind::Internal, fmt::format("has {} inputs, expected {}", layer.inputs.size(),
                                                     nn::expected_input_count(layer.kind)));
      }
      std::vector<const Tensor*> in;
      for (auto v : layer.inputs) {
        const Value& value = values.at(static_cast<std::size_t>(v));
        if (!value) throw Error(ErrorKind::Internal, fmt::format("reads value {} before it is computed", v));
        in.push_back(value.get());
      }
      if (calibrate != nullptr && layer.kind == LayerKind::BatchNorm2d) {
        set_batch_statistics(calibrate->layers[i], *in[0]);
      }
      // The first operand is overwritten in place when this layer is its last
      // reader and nothing else (an identity's output, another operand) holds it.
      Value& first = values.at(static_cast<std::size_t>(layer.inputs[0]));
      const bool handed_over = last_use[static_cast<std::size_t>(layer.inputs[0])] == i &&
                               layer.inputs[0] != graph.output && first.use_count() == 1 &&
                               std::count(layer.inputs.begin(), layer.inputs.end(), layer.inputs[0]) == 1;
      const auto own_first = [&]() -> Tensor { return handed_over ? std::move(*first) : *first; };
      // Read before run_layer, which may take the first operand over.
      const std::uint32_t ulps = noise != nullptr ? rounding_ulps(layer, *in[0]) : 0;
      Value out = run_layer(layer, in, first, own_first, then_silu);
      if (ulps != 0) add_rounding_noise(*out, noise->first_row, ulps, noise->seed, i, row_base);
      if (first_bad != nullptr && !*first_bad && !all_finite(*out)) {
        *first_bad = fmt::format("layer {} ({}) is the first to produce NaN or inf", layer.path,
                                 nn::layer_kind_name(layer.kind));
      }
      values.at(static_cast<std::size_t>(result)) = std::move(out);
    });
    for (auto v : layer.inputs) {
      if (last_use[static_cast<std::size_t>(v)] == i && v != graph.output) values[static_cast<std::size_t>(v)].reset();
    }
    if (then_silu) ++i;
  }
  const Value& out = values.at(static_cast<std::size_t>(graph.output));
  if (!out) throw Error(ErrorKind::Internal, "the graph's output is never computed");
  return *out;
}

// Image by image: each worker takes the next image and runs it through the
// whole graph on its own thread.
Tensor forward_by_image(const nn::LayerGraph& graph, const Tensor& input, const RoundingNoise* noise) {
  const auto n = static_cast<std::size_t>(input.dim(0));
  std::vector<Tensor> outputs(n);
  parallel_for(
      input.dim(0),
      [&](std::int64_t begin, std::int64_t end) {
        const SerialScope serial;
        for (std::int64_t r = begin; r < end; ++r) {
          const Tensor image = take_rows(input, {static_cast<std::size_t>(r)});
          // Noise keyed by the image's row in the batch, as a batched run keys it.
          const bool noisy = noise != nullptr && r >= noise->first_row;
          const RoundingNoise own{noisy ? noise->seed : 0, 0};
          outputs[static_cast<std::size_t>(r)] = run(graph, image, nullptr, noisy ? &own : nullptr, r);
        }
      },
      2);
  std::vector<const Tensor*> parts;
  for (const auto& output : outputs) parts.push_back(&output);
  return concat_rows(parts);
}

}  // namespace

Tensor forward(const nn::LayerGraph& graph, const Tensor& input, const RoundingNoise* noise) {
  check_input(graph, input);
  if (input.dim(0) >= std::max<std::int64_t>(2, worker_count())) return forward_by_image(graph, input, noise);
  return run(graph, input, nullptr, noise);
}

void calibrate_batch_norm(nn::LayerGraph& graph, const Tensor& input) { run(graph, input, &graph, nullptr); }

std::optional<std::string> first_non_finite(const nn::LayerGraph& graph, const Tensor& input) {
  for (const auto& layer : graph.layers) {
    for (const auto& [name, tensor] : layer.params) {
      if (!all_finite(tensor)) {
        return fmt::format("layer {} ({}) has NaN or inf in its parameter '{}'", layer.path,
                           nn::layer_kind_name(layer.kind), name);
      }
    }
  }
  std::optional<std::string> first_bad;
  run(graph, input, nullptr, nullptr, 0, &first_bad);
  return first_bad;
}

}  // namespace pt2onnx::reference
