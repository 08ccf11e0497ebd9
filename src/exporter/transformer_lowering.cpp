// The vision transformers' layers on token sequences [N, L, D], written as
// torch.onnx.export writes them at opset 17: LayerNormalization, MatMul with
// the transposed Linear weight then Add of the bias, attention as MatMul,
// Softmax and MatMul between reshapes that keep the batch dimension (0 in a
// Reshape's shape) dynamic.
#include <algorithm>
#include <cmath>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "exporter/layer_lowerings.h"
#include "pt2onnx/error.h"

namespace pt2onnx::exporter {
namespace {

constexpr int kFirstOpsetWithLayerNormalization = 17;

// torch's Linear weight [out, in] as MatMul's right operand [in, out].
Tensor transposed(const Tensor& w) {
  const std::int64_t rows = w.dim(0), cols = w.dim(1);
  Tensor t(DType::Float32, {cols, rows});
  const auto src = w.f32();
  auto dst = t.f32();
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      dst[static_cast<std::size_t>(c * rows + r)] = src[static_cast<std::size_t>(r * cols + c)];
    }
  }
  return t;
}

// x @ weight^T + bias on the last axis, from `input` to `output`; `prefix`
// names the parameters ("encoder.layers.encoder_layer_0.self_attention.out_proj").
void add_linear(const nn::Layer& layer, LoweringContext& ctx, const std::string& prefix, const std::string& weight,
                const std::string& bias, const std::string& input, const std::string& output) {
  const std::string product = prefix + "/MatMul_output";
  ctx.add_node("MatMul", prefix + "/MatMul",
               {input, ctx.add_initializer(prefix + ".weight_transposed", transposed(ctx.param(layer, weight)))},
               {bias.empty() ? output : product});
  if (bias.empty()) return;
  ctx.add_node("Add", prefix + "/Add", {product, ctx.add_initializer(prefix + ".bias", ctx.param(layer, bias))},
               {output});
}

// Steps of a layer's lowering, each naming its node and output after the
// layer's path and the step ("features.1.1.attn/windows").
class Steps {
 public:
  Steps(const nn::Layer& layer, LoweringContext& ctx) : layer_(layer), ctx_(ctx) {}

  [[nodiscard]] std::string name(std::string_view step) const { return fmt::format("{}/{}", layer_.path, step); }

  std::string reshape(std::string_view step, const std::string& input, const std::vector<std::int64_t>& shape) {
    const std::string out = name(step);
    ctx_.add_node("Reshape", out, {input, ctx_.add_int64_initializer(out + ".shape", shape)}, {out});
    return out;
  }
  std::string transpose(std::string_view step, const std::string& input, std::vector<std::int64_t> perm) {
    const std::string out = name(step);
    set_ints_attr(ctx_.add_node("Transpose", out, {input}, {out}), "perm", std::move(perm));
    return out;
  }
  // x[begin:end] along `axis`
  std::string slice(std::string_view step, const std::string& input, std::int64_t axis, std::int64_t begin,
                    std::int64_t end) {
    const std::string out = name(step);
    ctx_.add_node("Slice", out,
                  {input, ctx_.add_int64_initializer(out + ".starts", {begin}),
                   ctx_.add_int64_initializer(out + ".ends", {end}), ctx_.add_int64_initializer(out + ".axes", {axis})},
                  {out});
    return out;
  }
  // torch.roll(x, shift, axis) on an axis of `size` cells: x[size - s:] then x[:size - s]
  std::string roll(std::string_view step, const std::string& input, std::int64_t axis, std::int64_t size,
                   std::int64_t shift) {
    const std::int64_t cut = ((size - shift) % size + size) % size;
    if (cut == 0) return input;
    const std::string out = name(step);
    const std::string tail = slice(fmt::format("{}_tail", step), input, axis, cut, size);
    const std::string head = slice(fmt::format("{}_head", step), input, axis, 0, cut);
    set_int_attr(ctx_.add_node("Concat", out, {tail, head}, {out}), "axis", axis);
    return out;
  }
  // The last step: `input` reshaped to `shape` as the layer's output.
  void reshape_to_output(std::string_view step, const std::string& input, const std::vector<std::int64_t>& shape) {
    const std::string out = name(step);
    ctx_.add_node("Reshape", out, {input, ctx_.add_int64_initializer(out + ".shape", shape)},
                  {ctx_.output_name(layer_)});
  }
  // zeros after the end of axes 1 and 2 of [N, rows, cols, C]
  std::string pad_grid(std::string_view step, const std::string& input, std::int64_t rows, std::int64_t cols) {
    if (rows == 0 && cols == 0) return input;
    const std::string out = name(step);
    ctx_.add_node("Pad", out, {input, ctx_.add_int64_initializer(out + ".pads", {0, 0, 0, 0, 0, rows, cols, 0})},
                  {out});
    return out;
  }

 private:
  const nn::Layer& layer_;
  LoweringContext& ctx_;
};

}  // namespace

void add_layer_normalization(const nn::Layer& layer, LoweringContext& ctx, const std::string& input,
                             const std::string& output, const std::string& param_prefix) {
  if (ctx.opset() < kFirstOpsetWithLayerNormalization) {
    throw_error(ErrorKind::Unsupported,
                fmt::format("layer {}: LayerNorm needs opset 17 or newer (LayerNormalization); export with --opset 17",
                            layer.path));
  }
  const std::string weight = param_prefix + "weight", bias = param_prefix + "bias";
  auto& ln = ctx.add_node("LayerNormalization", param_prefix.empty() ? layer.path : layer.path + "/LayerNormalization",
                          {input, ctx.add_initializer(nn::state_key(layer.path, weight), ctx.param(layer, weight)),
                           ctx.add_initializer(nn::state_key(layer.path, bias), ctx.param(layer, bias))},
                          {output});
  set_int_attr(ln, "axis", -1);
  const auto* merging = std::get_if<nn::PatchMergingAttrs>(&layer.attrs);
  set_float_attr(ln, "epsilon", static_cast<float>(merging ? merging->eps : layer.as<nn::LayerNormAttrs>().eps));
}

// x.reshape(n, D, h * w).permute(0, 2, 1)
void lower_patch_tokens(const nn::Layer& layer, LoweringContext& ctx) {
  const auto p = [&](const char* step) { return layer.path + step; };
  ctx.add_node("Reshape", p("/Reshape"), {ctx.input_name(layer, 0), ctx.add_int64_initializer(p(".shape"), {0, 0, -1})},
               {p("/flat")});
  auto& t = ctx.add_node("Transpose", p("/Transpose"), {p("/flat")}, {ctx.output_name(layer)});
  set_ints_attr(t, "perm", {0, 2, 1});
}

// torch.cat([class_token.expand(n, -1, -1), x], dim=1), as a Pad of one
// zero token in front and an Add of [class_token; zeros]: exact (x + 0 is
// x, 0 + t is t) and static but for the batch, which shape inference keeps
// symbolic (an Expand to a shape read at run time would lose it).
void lower_class_token(const nn::Layer& layer, LoweringContext& ctx) {
  const auto p = [&](const char* step) { return layer.path + step; };
  const auto& a = layer.as<nn::TokenAttrs>();
  const Tensor& token = ctx.param(layer, "");
  Tensor rows(DType::Float32, {1, a.length, a.dim});
  std::copy(token.f32().begin(), token.f32().end(), rows.f32().begin());
  ctx.add_node("Pad", p("/Pad"), {ctx.input_name(layer, 0), ctx.add_int64_initializer(p(".pads"), {0, 1, 0, 0, 0, 0})},
               {p("/padded")});
  ctx.add_node("Add", p("/Add"), {p("/padded"), ctx.add_initializer(layer.path + ".value", rows)},
               {ctx.output_name(layer)});
}

void lower_position_embedding(const nn::Layer& layer, LoweringContext& ctx) {
  ctx.add_node("Add", layer.path + "/Add",
               // the parameter is named "<key>.value": the key itself names the layer's output
               {ctx.input_name(layer, 0), ctx.add_initializer(layer.path + ".value", ctx.param(layer, ""))},
               {ctx.output_name(layer)});
}

void lower_layer_norm(const nn::Layer& layer, LoweringContext& ctx) {
  add_layer_normalization(layer, ctx, ctx.input_name(layer, 0), ctx.output_name(layer));
}

void lower_token_linear(const nn::Layer& layer, LoweringContext& ctx) {
  add_linear(layer, ctx, layer.path, "weight", layer.as<nn::LinearAttrs>().bias ? "bias" : "", ctx.input_name(layer, 0),
             ctx.output_name(layer));
}

// Self-attention as torch computes it: one packed projection to q, k and v,
// split into heads [N, H, L, dh]; softmax(q / sqrt(dh) @ k^T) @ v; the heads
// joined back to [N, L, D]; the output projection.
void lower_multihead_attention(const nn::Layer& layer, LoweringContext& ctx) {
  const auto& a = layer.as<nn::AttentionAttrs>();
  if (a.heads < 1 || a.dim % a.heads != 0) {
    throw_error(ErrorKind::ExportFailed,
                fmt::format("layer {}: {} features do not split into {} heads", layer.path, a.dim, a.heads));
  }
  const std::int64_t dh = a.dim / a.heads;
  const auto p = [&](const char* step) { return layer.path + step; };
  add_linear(layer, ctx, p(".in_proj"), "in_proj_weight", "in_proj_bias", ctx.input_name(layer, 0), p("/qkv"));
  ctx.add_node("Reshape", p("/split_heads"),
               {p("/qkv"), ctx.add_int64_initializer(p(".qkv_shape"), {0, -1, 3, a.heads, dh})}, {p("/qkv_heads")});
  auto& by_role = ctx.add_node("Transpose", p("/by_role"), {p("/qkv_heads")}, {p("/qkv_by_role")});
  set_ints_attr(by_role, "perm", {2, 0, 3, 1, 4});  // [3, N, H, L, dh]
  const char* roles[] = {"/q", "/k", "/v"};
  for (std::int64_t r = 0; r < 3; ++r) {
    const std::string role = roles[r];
    auto& g =
        ctx.add_node("Gather", p("/Gather") + role,
                     {p("/qkv_by_role"), ctx.add_int64_scalar(p(".index") + role.substr(1), r)}, {layer.path + role});
    set_int_attr(g, "axis", 0);
  }
  const float scale = std::sqrt(static_cast<float>(dh));
  ctx.add_node("Div", p("/scale_q"),
               {p("/q"), ctx.add_initializer(p(".sqrt_head_dim"), Shape{}, std::span<const float>(&scale, 1))},
               {p("/q_scaled")});
  auto& kt = ctx.add_node("Transpose", p("/k_transposed"), {p("/k")}, {p("/k_t")});
  set_ints_attr(kt, "perm", {0, 1, 3, 2});
  ctx.add_node("MatMul", p("/scores"), {p("/q_scaled"), p("/k_t")}, {p("/scores")});
  auto& sm = ctx.add_node("Softmax", p("/Softmax"), {p("/scores")}, {p("/weights")});
  set_int_attr(sm, "axis", -1);
  ctx.add_node("MatMul", p("/mix"), {p("/weights"), p("/v")}, {p("/mixed")});
  auto& back = ctx.add_node("Transpose", p("/join_heads"), {p("/mixed")}, {p("/mixed_tokens")});
  set_ints_attr(back, "perm", {0, 2, 1, 3});
  ctx.add_node("Reshape", p("/Reshape"),
               {p("/mixed_tokens"), ctx.add_int64_initializer(p(".joined_shape"), {0, -1, a.dim})}, {p("/joined")});
  add_linear(layer, ctx, p(".out_proj"), "out_proj.weight", "out_proj.bias", p("/joined"), ctx.output_name(layer));
}

// x[:, 0]
void lower_first_token(const nn::Layer& layer, LoweringContext& ctx) {
  auto& g =
      ctx.add_node("Gather", layer.path, {ctx.input_name(layer, 0), ctx.add_int64_scalar(layer.path + ".index", 0)},
                   {ctx.output_name(layer)});
  set_int_attr(g, "axis", 1);
}

}  // namespace pt2onnx::exporter

namespace pt2onnx::exporter {

namespace {

struct GroupedAttention {
  std::int64_t groups = 1, tokens = 1, dim = 0, heads = 1;
  std::string qkv, proj;         // the projections' parameter prefixes: "qkv", "proj" (Swin) or "to_qkv", "merge"
  float scale = 1.0f;            // of q, or of k with scale_keys
  bool scale_keys = false;       // MaxViT scales k
  const Tensor* bias = nullptr;  // added to the scores: [heads, T, T] or [groups, heads, T, T]
  std::string bias_name;
};

// Attention within groups: `x` is [N, groups, T, C]; returns the projected
// [N, groups, T, C]. The packed projection split into heads [N, groups,
// heads, T, dh]; softmax(q k^T + bias) v with q or k scaled; heads joined.
std::string add_grouped_attention(const nn::Layer& layer, LoweringContext& ctx, Steps& step, const std::string& x,
                                  const GroupedAttention& g) {
  const std::int64_t dh = g.dim / g.heads;
  add_linear(layer, ctx, nn::state_key(layer.path, g.qkv), g.qkv + ".weight", g.qkv + ".bias", x, step.name("qkv"));
  std::string y = step.reshape("qkv_heads", step.name("qkv"), {0, g.groups, g.tokens, 3, g.heads, dh});
  y = step.transpose("qkv_by_role", y, {3, 0, 1, 4, 2, 5});  // [3, N, groups, heads, T, dh]
  const char* roles[] = {"q", "k", "v"};
  for (std::int64_t r = 0; r < 3; ++r) {
    set_int_attr(ctx.add_node("Gather", step.name(roles[r]),
                              {y, ctx.add_int64_scalar(fmt::format("{}.index_{}", layer.path, roles[r]), r)},
                              {step.name(roles[r])}),
                 "axis", 0);
  }
  const std::string scaled = g.scale_keys ? "k" : "q";
  ctx.add_node(
      "Mul", step.name(scaled + "_scaled"),
      {step.name(scaled), ctx.add_initializer(layer.path + ".scale", Shape{}, std::span<const float>(&g.scale, 1))},
      {step.name(scaled + "_scaled")});
  const std::string q = g.scale_keys ? step.name("q") : step.name("q_scaled");
  const std::string k = g.scale_keys ? step.name("k_scaled") : step.name("k");
  const std::string kt = step.transpose("k_transposed", k, {0, 1, 2, 4, 3});
  ctx.add_node("MatMul", step.name("scores"), {q, kt}, {step.name("scores")});
  ctx.add_node("Add", step.name("biased"), {step.name("scores"), ctx.add_initializer(g.bias_name, *g.bias)},
               {step.name("biased")});
  set_int_attr(ctx.add_node("Softmax", step.name("weights"), {step.name("biased")}, {step.name("weights")}), "axis",
               -1);
  ctx.add_node("MatMul", step.name("mixed"), {step.name("weights"), step.name("v")}, {step.name("mixed")});
  y = step.transpose("mixed_tokens", step.name("mixed"), {0, 1, 3, 2, 4});
  y = step.reshape("joined", y, {0, g.groups, g.tokens, g.dim});
  add_linear(layer, ctx, nn::state_key(layer.path, g.proj), g.proj + ".weight", g.proj + ".bias", y,
             step.name("projected"));
  return step.name("projected");
}

// The relative position bias of each of `groups` groups (1: the same for all)
// and head: table[index[i * T + j]][h], plus mask(group, i, j).
template <typename Mask>
Tensor relative_bias(const nn::Layer& layer, LoweringContext& ctx, std::int64_t window, std::int64_t heads,
                     std::int64_t groups, Mask mask) {
  const std::int64_t tokens = window * window, span = 2 * window - 1;
  const Tensor& table = ctx.param(layer, "relative_position_bias_table");
  const Tensor& index = ctx.param(layer, "relative_position_index");
  Tensor bias(DType::Float32, groups > 1 ? Shape{groups, heads, tokens, tokens} : Shape{heads, tokens, tokens});
  auto out = bias.f32();
  for (std::int64_t g = 0; g < groups; ++g) {
    for (std::int64_t i = 0; i < tokens; ++i) {
      for (std::int64_t j = 0; j < tokens; ++j) {
        const float at = index.f32()[static_cast<std::size_t>(i * tokens + j)];
        if (!(at >= 0.0f && at < static_cast<float>(span * span)) || at != std::floor(at)) {
          throw_error(ErrorKind::ExportFailed,
                      fmt::format("{}.relative_position_index holds {}, not a row of the {}-row bias table", layer.path,
                                  at, span * span));
        }
        const float m = mask(g, i, j);
        for (std::int64_t h = 0; h < heads; ++h) {
          out[static_cast<std::size_t>(((g * heads + h) * tokens + i) * tokens + j)] =
              table.f32()[static_cast<std::size_t>(static_cast<std::int64_t>(at) * heads + h)] + m;
        }
      }
    }
  }
  return bias;
}

}  // namespace

// Swin's shifted-window attention on the tokens [N, rows * cols, C] of its
// grid, every reshape keeping the batch (0): the grid padded to whole
// windows and rolled back by the shift; the windows [N, windows, w * w, C];
// attention in each (q scaled by (C / heads)^-0.5, the relative position bias
// gathered from the table at export, plus in shifted windows the mask of -100
// between cells of different regions); the windows put back, rolled forward
// and unpadded.
void lower_window_attention(const nn::Layer& layer, LoweringContext& ctx) {
  const auto& a = layer.as<nn::WindowAttrs>();
  const std::int64_t c = a.dim, w = a.window, rows = a.grid[0], cols = a.grid[1];
  if (a.heads < 1 || c % a.heads != 0 || w < 1 || rows < 1 || cols < 1) {
    throw_error(ErrorKind::ExportFailed, fmt::format("layer {}: {} features in {} heads, window {} over a {}x{} grid "
                                                     "do not make a window attention",
                                                     layer.path, c, a.heads, w, rows, cols));
  }
  const std::int64_t tokens = w * w, head_dim = c / a.heads;
  const std::int64_t prow = (rows + w - 1) / w * w, pcol = (cols + w - 1) / w * w;
  const std::int64_t shift_r = w >= prow ? 0 : a.shift, shift_c = w >= pcol ? 0 : a.shift;
  const std::int64_t wrows = prow / w, wcols = pcol / w, windows = wrows * wcols;
  const bool moved = prow != rows || pcol != cols || shift_r + shift_c > 0;
  Steps step(layer, ctx);

  std::string x = ctx.input_name(layer, 0);
  if (moved) {
    x = step.reshape("grid", x, {0, rows, cols, c});
    x = step.pad_grid("padded", x, prow - rows, pcol - cols);
    x = step.roll("shifted_rows", x, 1, prow, -shift_r);
    x = step.roll("shifted", x, 2, pcol, -shift_c);
  }
  x = step.reshape("window_grid", x, {0, wrows, w, wcols, w, c});
  x = step.transpose("window_major", x, {0, 1, 3, 2, 4, 5});
  x = step.reshape("windows", x, {0, windows, tokens, c});

  const bool shifted = shift_r + shift_c > 0;
  std::vector<std::int64_t> label;
  if (shifted) {
    // torchvision's regions of the shifted padded grid: rows [0, P - w), [P - w, P - s), [P - s, P), cols likewise
    const auto region = [w](std::int64_t at, std::int64_t size, std::int64_t shift) -> std::int64_t {
      if (shift == 0) return 2;  // torch's last slice [-0:] is the whole axis
      return at < size - w ? 0 : at < size - shift ? 1 : 2;
    };
    label.resize(static_cast<std::size_t>(prow * pcol));
    for (std::int64_t r = 0; r < prow; ++r) {
      for (std::int64_t col = 0; col < pcol; ++col) {
        label[static_cast<std::size_t>(r * pcol + col)] = 3 * region(r, prow, shift_r) + region(col, pcol, shift_c);
      }
    }
  }
  const auto label_of = [&](std::int64_t win, std::int64_t t) {
    return label[static_cast<std::size_t>(((win / wcols) * w + t / w) * pcol + (win % wcols) * w + t % w)];
  };
  const Tensor bias = relative_bias(layer, ctx, w, a.heads, shifted ? windows : 1,
                                    [&](std::int64_t win, std::int64_t i, std::int64_t j) {
                                      return shifted && label_of(win, i) != label_of(win, j) ? -100.0f : 0.0f;
                                    });
  const GroupedAttention g{.groups = windows,
                           .tokens = tokens,
                           .dim = c,
                           .heads = a.heads,
                           .qkv = "qkv",
                           .proj = "proj",
                           // torch multiplies q by the Python float (C / heads)^-0.5, which it rounds to float32
                           .scale = static_cast<float>(std::pow(static_cast<double>(head_dim), -0.5)),
                           .bias = &bias,
                           .bias_name = layer.path + (shifted ? ".bias_and_mask" : ".bias")};
  x = add_grouped_attention(layer, ctx, step, x, g);
  x = step.reshape("window_blocks", x, {0, wrows, wcols, w, w, c});
  x = step.transpose("grid_major", x, {0, 1, 3, 2, 4, 5});
  if (moved) {
    x = step.reshape("padded_grid", x, {0, prow, pcol, c});
    x = step.roll("unshifted_rows", x, 1, prow, shift_r);
    x = step.roll("unshifted", x, 2, pcol, shift_c);
    if (prow != rows) x = step.slice("unpadded_rows", x, 1, 0, rows);
    if (pcol != cols) x = step.slice("unpadded", x, 2, 0, cols);
  }
  step.reshape_to_output("tokens", x, {0, rows * cols, c});
}

// Swin's PatchMerging on the tokens of its grid: an odd side padded, each
// 2x2 neighbourhood's tokens side by side in torchvision's order (x[0::2,
// 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2]) by one reshape and
// transpose, LayerNormalization over the 4C, the reduction without bias.
void lower_patch_merging(const nn::Layer& layer, LoweringContext& ctx) {
  const auto& a = layer.as<nn::PatchMergingAttrs>();
  const std::int64_t c = a.dim, rows = a.grid[0], cols = a.grid[1];
  const std::int64_t half_r = (rows + 1) / 2, half_c = (cols + 1) / 2;
  Steps step(layer, ctx);
  std::string x = ctx.input_name(layer, 0);
  if (rows % 2 != 0 || cols % 2 != 0) {
    x = step.reshape("grid", x, {0, rows, cols, c});
    x = step.pad_grid("padded", x, rows % 2, cols % 2);
  }
  x = step.reshape("pairs", x, {0, half_r, 2, half_c, 2, c});
  x = step.transpose("column_pair_major", x, {0, 1, 3, 4, 2, 5});  // [N, h, w, x parity, y parity, C]
  x = step.reshape("merged", x, {0, half_r * half_c, 4 * c});
  add_layer_normalization(layer, ctx, x, step.name("normalized"), "norm.");
  add_linear(layer, ctx, layer.path + ".reduction", "reduction.weight", "", step.name("normalized"),
             ctx.output_name(layer));
}

// The mean over the tokens: Swin's permute, avgpool and flatten in one.
void lower_token_mean(const nn::Layer& layer, LoweringContext& ctx) {
  auto& mean = ctx.add_node("ReduceMean", layer.path, {ctx.input_name(layer, 0)}, {ctx.output_name(layer)});
  set_ints_attr(mean, "axes", {1});
  set_int_attr(mean, "keepdims", 0);
}

}  // namespace pt2onnx::exporter

namespace pt2onnx::exporter {
namespace {

// The two six-axis views of MaxViT's partitions: the map [N, C, H, W] split
// as [N, C, a, b, c, d], and the permutation that brings it to group-major
// tokens (its inverse brings them back).
struct PartitionView {
  std::vector<std::int64_t> split;  // [0, C, ..] of the map
  std::vector<std::int64_t> to_tokens;
  std::vector<std::int64_t> tokens_split;  // [0, g1, g2, w, w, C] of the tokens
  std::vector<std::int64_t> to_map;
};

PartitionView partition_view(const nn::Layer& layer) {
  const auto& a = layer.as<nn::PartitionAttrs>();
  const std::int64_t w = a.window, rows = a.grid[0], cols = a.grid[1], channels = a.channels;
  if (w < 1 || rows < 1 || cols < 1 || rows % w != 0 || cols % w != 0) {
    throw_error(ErrorKind::ExportFailed, fmt::format("layer {}: a {}x{} map does not split into {}x{} partitions",
                                                     layer.path, rows, cols, w, w));
  }
  const std::int64_t gr = rows / w, gc = cols / w;
  if (!a.grid_groups) {  // torchvision's [B, C, H/w, w, W/w, w], permute(0, 2, 4, 3, 5, 1)
    return {{0, channels, gr, w, gc, w}, {0, 2, 4, 3, 5, 1}, {0, gr, gc, w, w, channels}, {0, 5, 1, 3, 2, 4}};
  }
  // [B, C, w, H/w, w, W/w]: group (i, j) of the strided cells, the w x w cells in it
  return {{0, channels, w, gr, w, gc}, {0, 3, 5, 2, 4, 1}, {0, gr, gc, w, w, channels}, {0, 5, 3, 1, 4, 2}};
}

}  // namespace

// MaxViT's WindowPartition (and SwapAxes for grid groups): [N, C, H, W] to
// group-major tokens [N, H * W, C] by one reshape, transpose and reshape.
void lower_partition(const nn::Layer& layer, LoweringContext& ctx) {
  const auto v = partition_view(layer);
  const auto& a = layer.as<nn::PartitionAttrs>();
  Steps step(layer, ctx);
  std::string x = step.reshape("split", ctx.input_name(layer, 0), v.split);
  x = step.transpose("group_major", x, v.to_tokens);
  step.reshape_to_output("tokens", x, {0, a.grid[0] * a.grid[1], a.channels});
}

void lower_departition(const nn::Layer& layer, LoweringContext& ctx) {
  const auto v = partition_view(layer);
  const auto& a = layer.as<nn::PartitionAttrs>();
  Steps step(layer, ctx);
  std::string x = step.reshape("groups", ctx.input_name(layer, 0), v.tokens_split);
  x = step.transpose("map_major", x, v.to_map);
  step.reshape_to_output("map", x, {0, a.channels, a.grid[0], a.grid[1]});
}

// MaxViT's RelativePositionalMultiHeadAttention on the group-major tokens
// [N, L, C]: viewed as [N, L / T, T, C], attention in each group of T =
// window^2 tokens with k scaled by C^-0.5 and the relative position bias.
void lower_group_attention(const nn::Layer& layer, LoweringContext& ctx) {
  const auto& a = layer.as<nn::WindowAttrs>();
  const std::int64_t tokens = a.window * a.window, length = a.grid[0] * a.grid[1];
  if (a.heads < 1 || a.dim % a.heads != 0 || tokens < 1 || length < 1 || length % tokens != 0) {
    throw_error(ErrorKind::ExportFailed, fmt::format("layer {}: {} features in {} heads over {} tokens do not make "
                                                     "groups of {}",
                                                     layer.path, a.dim, a.heads, length, tokens));
  }
  Steps step(layer, ctx);
  const std::string x = step.reshape("groups", ctx.input_name(layer, 0), {0, length / tokens, tokens, a.dim});
  const Tensor bias =
      relative_bias(layer, ctx, a.window, a.heads, 1, [](std::int64_t, std::int64_t, std::int64_t) { return 0.0f; });
  const GroupedAttention g{.groups = length / tokens,
                           .tokens = tokens,
                           .dim = a.dim,
                           .heads = a.heads,
                           .qkv = "to_qkv",
                           .proj = "merge",
                           .scale = static_cast<float>(std::pow(static_cast<double>(a.dim), -0.5)),
                           .scale_keys = true,
                           .bias = &bias,
                           .bias_name = layer.path + ".bias"};
  const std::string y = add_grouped_attention(layer, ctx, step, x, g);
  step.reshape_to_output("tokens", y, {0, length, a.dim});
}

}  // namespace pt2onnx::exporter
