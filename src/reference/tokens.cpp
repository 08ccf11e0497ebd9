// The reference's token operators, for the vision transformers: sequences
// [N, L, D] in and out, double accumulation, each result rounded to float32
// where PyTorch rounds it.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "reference/checks.h"
#include "reference/ops.h"
#include "reference/parallel.h"

namespace pt2onnx::reference {
namespace {

// dst [cols, rows] = src [rows, cols] transposed.
void transpose_into(const float* src, std::int64_t rows, std::int64_t cols, float* dst) {
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) dst[c * rows + r] = src[r * cols + c];
  }
}

void require_tokens(const Tensor& x, std::int64_t dim, std::string_view what) {
  require_rank(x, 3, what);
  if (x.dim(2) != dim) {
    throw Error(ErrorKind::BadInput, fmt::format("{} has {} features per token, {} expected", what, x.dim(2), dim));
  }
}

// One head's attention for one sequence: q, k, v are [L, dh] rows with a
// stride of `stride` floats; out receives softmax(q k^T + bias + mask) v, rows
// of stride `out_stride`. q is already scaled; bias and mask are [L, L] or
// null, each added to the float32 scores in turn, as torch adds them.
void attend(const float* q, const float* k, const float* v, std::int64_t length, std::int64_t dh, std::int64_t stride,
            float* out, std::int64_t out_stride, const float* bias = nullptr, const float* mask = nullptr) {
  std::vector<float> scores(static_cast<std::size_t>(length));
  std::vector<double> weights(static_cast<std::size_t>(length));
  for (std::int64_t i = 0; i < length; ++i) {
    const float* qi = q + i * stride;
    float top = -INFINITY;
    for (std::int64_t j = 0; j < length; ++j) {
      const float* kj = k + j * stride;
      double acc = 0.0;
      for (std::int64_t c = 0; c < dh; ++c) acc += static_cast<double>(qi[c]) * static_cast<double>(kj[c]);
      float score = static_cast<float>(acc);
      if (bias != nullptr) score += bias[i * length + j];
      if (mask != nullptr) score += mask[i * length + j];
      scores[static_cast<std::size_t>(j)] = score;
      top = std::max(top, score);
    }
    // softmax over the float32 scores, rounded to float32 as torch's softmax returns it
    double total = 0.0;
    for (std::int64_t j = 0; j < length; ++j) {
      const double e = std::exp(static_cast<double>(scores[static_cast<std::size_t>(j)]) - static_cast<double>(top));
      weights[static_cast<std::size_t>(j)] = e;
      total += e;
    }
    for (auto& w : weights) w = static_cast<double>(static_cast<float>(w / total));
    float* oi = out + i * out_stride;
    for (std::int64_t c = 0; c < dh; ++c) {
      double acc = 0.0;
      for (std::int64_t j = 0; j < length; ++j) {
        acc += weights[static_cast<std::size_t>(j)] * static_cast<double>(v[j * stride + c]);
      }
      oi[c] = static_cast<float>(acc);
    }
  }
}

// Python's a[begin:end] of a length-n axis as [first, last): negative ends count from the end.
std::pair<std::int64_t, std::int64_t> python_slice(std::int64_t begin, std::optional<std::int64_t> end,
                                                   std::int64_t n) {
  const auto resolve = [n](std::int64_t i) { return std::clamp<std::int64_t>(i < 0 ? i + n : i, 0, n); };
  return {resolve(begin), end ? resolve(*end) : n};
}

// torchvision's attention mask for shifted windows: the region label of each
// cell of the shifted padded grid, written slice by slice as torch writes it.
std::vector<std::int64_t> shift_regions(std::int64_t rows, std::int64_t cols, std::int64_t window, std::int64_t shift_r,
                                        std::int64_t shift_c) {
  const auto slices = [window](std::int64_t shift) {
    return std::array<std::pair<std::int64_t, std::optional<std::int64_t>>, 3>{
        {{0, -window}, {-window, -shift}, {-shift, std::nullopt}}};
  };
  std::vector<std::int64_t> label(static_cast<std::size_t>(rows * cols), 0);
  std::int64_t count = 0;
  for (const auto& [hb, he] : slices(shift_r)) {
    for (const auto& [wb, we] : slices(shift_c)) {
      const auto [r0, r1] = python_slice(hb, he, rows);
      const auto [c0, c1] = python_slice(wb, we, cols);
      for (std::int64_t r = r0; r < r1; ++r) {
        for (std::int64_t c = c0; c < c1; ++c) label[static_cast<std::size_t>(r * cols + c)] = count;
      }
      ++count;
    }
  }
  return label;
}

}  // namespace

Tensor patch_tokens(const Tensor& x) {
  require_rank(x, 4, "input");
  const std::int64_t n = x.dim(0), d = x.dim(1), plane = x.dim(2) * x.dim(3);
  Tensor out(DType::Float32, {n, plane, d});
  for (std::int64_t b = 0; b < n; ++b) {
    transpose_into(x.f32().data() + b * d * plane, d, plane, out.f32().data() + b * plane * d);
  }
  return out;
}

Tensor prepend_token(const Tensor& x, const Tensor& token) {
  require_rank(x, 3, "input");
  const std::int64_t n = x.dim(0), length = x.dim(1), d = x.dim(2);
  require_shape(token, {1, 1, d}, "class token");
  Tensor out(DType::Float32, {n, length + 1, d});
  const auto row_bytes = static_cast<std::size_t>(d) * sizeof(float);
  for (std::int64_t b = 0; b < n; ++b) {
    float* dst = out.f32().data() + b * (length + 1) * d;
    std::memcpy(dst, token.f32().data(), row_bytes);
    std::memcpy(dst + d, x.f32().data() + b * length * d, row_bytes * static_cast<std::size_t>(length));
  }
  return out;
}

Tensor add_position_embedding(Tensor x, const Tensor& embedding) {
  require_rank(x, 3, "input");
  if (embedding.shape() != Shape{1, x.dim(1), x.dim(2)}) {
    throw Error(ErrorKind::BadInput,
                fmt::format("the position embedding {} does not fit {} tokens of {} features (the image must be "
                            "the size the model was trained at)",
                            shape_to_string(embedding.shape()), x.dim(1), x.dim(2)));
  }
  const auto e = embedding.f32();
  auto data = x.f32();
  const auto row = e.size();
  for (std::size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<float>(static_cast<double>(data[i]) + static_cast<double>(e[i % row]));
  }
  return x;
}

Tensor layer_norm_tokens(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  if (x.rank() < 2) require_rank(x, 3, "input");
  // Each token (or row of [N, D]) is a pixel of an [N * L, D, 1, 1] image: the same per-pixel normalisation.
  const std::int64_t d = x.dim(x.rank() - 1);
  const Tensor out = layer_norm_channels(
      x.reshaped({static_cast<std::int64_t>(x.numel()) / std::max<std::int64_t>(d, 1), d, 1, 1}), weight, bias, eps);
  return out.reshaped(x.shape());
}

Tensor token_linear(const Tensor& x, const Tensor& weight, const Tensor* bias) {
  require_rank(weight, 2, "weight");
  require_tokens(x, weight.dim(1), "input");
  if (bias != nullptr) require_shape(*bias, {weight.dim(0)}, "bias");
  // The tokens as the pixels of one [1, in, 1, R] image: a Linear on each is
  // the pointwise (1x1 convolution) product, whose blocked loops are fast.
  const std::int64_t rows = x.dim(0) * x.dim(1), in = x.dim(2), out = weight.dim(0);
  Tensor image(DType::Float32, {1, in, 1, rows});
  transpose_into(x.f32().data(), rows, in, image.f32().data());
  const Tensor y = pointwise_linear(image, weight, bias);
  Tensor result(DType::Float32, {x.dim(0), x.dim(1), out});
  transpose_into(y.f32().data(), out, rows, result.f32().data());
  return result;
}

Tensor multihead_attention(const Tensor& x, const Tensor& in_weight, const Tensor& in_bias, const Tensor& out_weight,
                           const Tensor& out_bias, std::int64_t heads) {
  const std::int64_t d = in_weight.dim(1);
  require_tokens(x, d, "input");
  require_shape(in_weight, {3 * d, d}, "in_proj_weight");
  require_shape(in_bias, {3 * d}, "in_proj_bias");
  if (heads < 1 || d % heads != 0) {
    throw Error(ErrorKind::BadInput, fmt::format("{} features do not split into {} heads", d, heads));
  }
  const std::int64_t n = x.dim(0), length = x.dim(1), dh = d / heads;
  // q, k and v of every token: [N, L, 3D], q's features first.
  Tensor qkv = token_linear(x, in_weight, &in_bias);
  float* p = qkv.f32().data();
  // q / sqrt(dh), rounded, as torch scales it before its product with k
  const double scale = std::sqrt(static_cast<double>(dh));
  for (std::int64_t t = 0; t < n * length; ++t) {
    for (std::int64_t c = 0; c < d; ++c) {
      float& q = p[t * 3 * d + c];
      q = static_cast<float>(static_cast<double>(q) / scale);
    }
  }
  Tensor mixed(DType::Float32, {n, length, d});
  float* mp = mixed.f32().data();
  parallel_for(n * heads, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t item = begin; item < end; ++item) {
      const std::int64_t b = item / heads, h = item % heads;
      const float* base = p + b * length * 3 * d + h * dh;
      attend(base, base + d, base + 2 * d, length, dh, 3 * d, mp + b * length * d + h * dh, d);
    }
  });
  return token_linear(mixed, out_weight, &out_bias);
}

Tensor first_token(const Tensor& x) {
  require_rank(x, 3, "input");
  const std::int64_t n = x.dim(0), length = x.dim(1), d = x.dim(2);
  if (length < 1) throw Error(ErrorKind::BadInput, "a sequence of no tokens has no first token");
  Tensor out(DType::Float32, {n, d});
  for (std::int64_t b = 0; b < n; ++b) {
    std::memcpy(out.f32().data() + b * d, x.f32().data() + b * length * d, static_cast<std::size_t>(d) * sizeof(float));
  }
  return out;
}

namespace {

// bias[h][i][j] = table[index[i * T + j]][h] for a window of T = window^2
// tokens; `index` is the float32 image of torchvision's int64 buffer, of any shape.
std::vector<float> relative_bias(const Tensor& table, const Tensor& index, std::int64_t window, std::int64_t heads) {
  const std::int64_t tokens = window * window, span = 2 * window - 1;
  require_shape(table, {span * span, heads}, "relative_position_bias_table");
  if (index.numel() != tokens * tokens) {
    throw Error(ErrorKind::BadInput, fmt::format("relative_position_index is {}, {} indices expected",
                                                 shape_to_string(index.shape()), tokens * tokens));
  }
  std::vector<float> bias(static_cast<std::size_t>(heads * tokens * tokens));
  for (std::int64_t ij = 0; ij < tokens * tokens; ++ij) {
    const float at = index.f32()[static_cast<std::size_t>(ij)];
    if (!(at >= 0.0f && at < static_cast<float>(span * span)) || at != std::floor(at)) {
      throw Error(ErrorKind::BadInput,
                  fmt::format("relative_position_index holds {}, not a row of the {}-row bias table", at, span * span));
    }
    for (std::int64_t h = 0; h < heads; ++h) {
      bias[static_cast<std::size_t>(h * tokens * tokens + ij)] =
          table.f32()[static_cast<std::size_t>(static_cast<std::int64_t>(at) * heads + h)];
    }
  }
  return bias;
}

struct GroupedAttention {
  std::int64_t tokens = 0;  // per group
  std::int64_t heads = 1;
  const std::vector<float>* bias = nullptr;   // [heads, T, T]
  const std::vector<float>* masks = nullptr;  // [groups, T, T], or none
  float scale = 1.0f;
  bool scale_keys = false;  // k * scale (MaxViT) instead of q * scale (Swin)
};

// Attention within each group of `tokens` consecutive tokens of x [N, G * T,
// C]: the packed projection, q or k times the scale (a float32, as torch
// multiplies by a Python float), softmax(q k^T + bias [+ mask]) v per head, the
// output projection.
Tensor attend_in_groups(const Tensor& x, const GroupedAttention& g, const Tensor& qkv_weight, const Tensor& qkv_bias,
                        const Tensor& proj_weight, const Tensor& proj_bias) {
  const std::int64_t c = x.dim(2), n = x.dim(0), length = x.dim(1), tokens = g.tokens, heads = g.heads;
  if (heads < 1 || c % heads != 0 || tokens < 1 || length % tokens != 0) {
    throw Error(ErrorKind::BadInput, fmt::format("{} tokens of {} features do not split into groups of {} tokens "
                                                 "and {} heads",
                                                 length, c, tokens, heads));
  }
  const std::int64_t dh = c / heads, groups = length / tokens;
  Tensor qkv = token_linear(x, qkv_weight, &qkv_bias);
  float* p = qkv.f32().data();
  const std::int64_t scaled = g.scale_keys ? c : 0;
  for (std::int64_t t = 0; t < n * length; ++t) {
    for (std::int64_t ch = 0; ch < c; ++ch) p[t * 3 * c + scaled + ch] *= g.scale;
  }
  Tensor mixed(DType::Float32, {n, length, c});
  float* mp = mixed.f32().data();
  parallel_for(n * groups * heads, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t item = begin; item < end; ++item) {
      const std::int64_t h = item % heads, group = (item / heads) % groups, b = item / (heads * groups);
      const float* base = p + (b * length + group * tokens) * 3 * c + h * dh;
      attend(base, base + c, base + 2 * c, tokens, dh, 3 * c, mp + (b * length + group * tokens) * c + h * dh, c,
             g.bias->data() + h * tokens * tokens,
             g.masks != nullptr ? g.masks->data() + group * tokens * tokens : nullptr);
    }
  });
  return token_linear(mixed, proj_weight, &proj_bias);
}

// The token of a window x window group that cell (y, x) of an H x W map is,
// for MaxViT's partitions (PartitionAttrs).
std::int64_t partition_token(const nn::PartitionAttrs& a, std::int64_t y, std::int64_t x) {
  const std::int64_t w = a.window, rows = a.grid[0], cols = a.grid[1];
  if (!a.grid_groups) {  // block (u, v) of w x w neighbours, cell (y % w, x % w) in it
    return (((y / w) * (cols / w) + x / w) * w + y % w) * w + x % w;
  }
  // group (y mod H/w, x mod W/w), cell (y / (H/w), x / (W/w)) in it
  const std::int64_t step_r = rows / w, step_c = cols / w;
  return (((y % step_r) * step_c + x % step_c) * w + y / step_r) * w + x / step_c;
}

void require_partitions(const nn::PartitionAttrs& a) {
  if (a.window < 1 || a.grid[0] % a.window != 0 || a.grid[1] % a.window != 0 || a.grid[0] < 1 || a.grid[1] < 1) {
    throw Error(ErrorKind::BadInput, fmt::format("a {}x{} map does not split into {}x{} partitions", a.grid[0],
                                                 a.grid[1], a.window, a.window));
  }
}

}  // namespace

Tensor window_attention(const Tensor& x, const nn::WindowAttrs& a, const Tensor& table, const Tensor& index,
                        const Tensor& qkv_weight, const Tensor& qkv_bias, const Tensor& proj_weight,
                        const Tensor& proj_bias) {
  const std::int64_t c = a.dim, w = a.window, rows = a.grid[0], cols = a.grid[1];
  require_tokens(x, c, "input");
  if (x.dim(1) != rows * cols) {
    throw Error(ErrorKind::BadInput, fmt::format("{} tokens are not a {}x{} grid", x.dim(1), rows, cols));
  }
  if (a.heads < 1 || c % a.heads != 0 || w < 1) {
    throw Error(ErrorKind::BadInput, fmt::format("{} features do not split into {} heads", c, a.heads));
  }
  const std::int64_t tokens = w * w, head_dim = c / a.heads;
  const auto bias = relative_bias(table, index, w, a.heads);
  // padded to whole windows; no shift where one window covers an axis
  const std::int64_t prow = (rows + w - 1) / w * w, pcol = (cols + w - 1) / w * w;
  const std::int64_t shift_r = w >= prow ? 0 : a.shift, shift_c = w >= pcol ? 0 : a.shift;
  const std::int64_t wcols = pcol / w, windows = (prow / w) * wcols;
  const bool shifted = shift_r + shift_c > 0;
  // the grid cell (or -1 for padding) behind each windowed token: window
  // (wy, wx)'s token (ty, tx) sits at the shifted cell (wy w + ty, wx w + tx),
  // which torch.roll brought from ((r + shift) mod padded size)
  std::vector<std::int64_t> source(static_cast<std::size_t>(windows * tokens));
  for (std::int64_t win = 0; win < windows; ++win) {
    for (std::int64_t t = 0; t < tokens; ++t) {
      const std::int64_t r = (win / wcols) * w + t / w, col = (win % wcols) * w + t % w;
      const std::int64_t y = (r + shift_r) % prow, xx = (col + shift_c) % pcol;
      source[static_cast<std::size_t>(win * tokens + t)] = y < rows && xx < cols ? y * cols + xx : -1;
    }
  }
  std::vector<float> masks;
  if (shifted) {
    const auto label = shift_regions(prow, pcol, w, shift_r, shift_c);
    masks.resize(static_cast<std::size_t>(windows * tokens * tokens));
    for (std::int64_t win = 0; win < windows; ++win) {
      const auto label_of = [&](std::int64_t t) {
        return label[static_cast<std::size_t>(((win / wcols) * w + t / w) * pcol + (win % wcols) * w + t % w)];
      };
      for (std::int64_t i = 0; i < tokens; ++i) {
        for (std::int64_t j = 0; j < tokens; ++j) {
          masks[static_cast<std::size_t>((win * tokens + i) * tokens + j)] =
              label_of(i) == label_of(j) ? 0.0f : -100.0f;
        }
      }
    }
  }
  const std::int64_t n = x.dim(0), length = windows * tokens;
  Tensor windowed(DType::Float32, {n, length, c});
  for (std::int64_t b = 0; b < n; ++b) {
    for (std::int64_t t = 0; t < length; ++t) {
      const std::int64_t from = source[static_cast<std::size_t>(t)];
      float* dst = windowed.f32().data() + (b * length + t) * c;
      if (from < 0) {
        std::fill(dst, dst + c, 0.0f);
      } else {
        std::memcpy(dst, x.f32().data() + (b * rows * cols + from) * c, static_cast<std::size_t>(c) * sizeof(float));
      }
    }
  }
  // q * (C / heads)^-0.5
  const GroupedAttention grouped{.tokens = tokens,
                                 .heads = a.heads,
                                 .bias = &bias,
                                 .masks = shifted ? &masks : nullptr,
                                 .scale = static_cast<float>(std::pow(static_cast<double>(head_dim), -0.5))};
  const Tensor projected = attend_in_groups(windowed, grouped, qkv_weight, qkv_bias, proj_weight, proj_bias);
  Tensor out(DType::Float32, x.shape());
  for (std::int64_t b = 0; b < n; ++b) {
    for (std::int64_t t = 0; t < length; ++t) {
      const std::int64_t to = source[static_cast<std::size_t>(t)];
      if (to < 0) continue;  // padding, cut off again
      std::memcpy(out.f32().data() + (b * rows * cols + to) * c, projected.f32().data() + (b * length + t) * c,
                  static_cast<std::size_t>(c) * sizeof(float));
    }
  }
  return out;
}

Tensor partition(const Tensor& x, const nn::PartitionAttrs& a) {
  require_rank(x, 4, "input");
  require_partitions(a);
  const std::int64_t n = x.dim(0), c = x.dim(1), rows = a.grid[0], cols = a.grid[1];
  if (x.dim(2) != rows || x.dim(3) != cols) {
    throw Error(ErrorKind::BadInput,
                fmt::format("input is {}, a {}x{} map expected", shape_to_string(x.shape()), rows, cols));
  }
  Tensor out(DType::Float32, {n, rows * cols, c});
  for (std::int64_t b = 0; b < n; ++b) {
    for (std::int64_t y = 0; y < rows; ++y) {
      for (std::int64_t xx = 0; xx < cols; ++xx) {
        float* token = out.f32().data() + (b * rows * cols + partition_token(a, y, xx)) * c;
        for (std::int64_t ch = 0; ch < c; ++ch)
          token[ch] = x.f32()[static_cast<std::size_t>(((b * c + ch) * rows + y) * cols + xx)];
      }
    }
  }
  return out;
}

Tensor departition(const Tensor& x, const nn::PartitionAttrs& a) {
  require_rank(x, 3, "input");
  require_partitions(a);
  const std::int64_t n = x.dim(0), c = x.dim(2), rows = a.grid[0], cols = a.grid[1];
  if (x.dim(1) != rows * cols) {
    throw Error(ErrorKind::BadInput, fmt::format("{} tokens are not a {}x{} map", x.dim(1), rows, cols));
  }
  Tensor out(DType::Float32, {n, c, rows, cols});
  for (std::int64_t b = 0; b < n; ++b) {
    for (std::int64_t y = 0; y < rows; ++y) {
      for (std::int64_t xx = 0; xx < cols; ++xx) {
        const float* token = x.f32().data() + (b * rows * cols + partition_token(a, y, xx)) * c;
        for (std::int64_t ch = 0; ch < c; ++ch)
          out.f32()[static_cast<std::size_t>(((b * c + ch) * rows + y) * cols + xx)] = token[ch];
      }
    }
  }
  return out;
}

Tensor group_attention(const Tensor& x, const nn::WindowAttrs& a, const Tensor& table, const Tensor& index,
                       const Tensor& qkv_weight, const Tensor& qkv_bias, const Tensor& merge_weight,
                       const Tensor& merge_bias) {
  require_tokens(x, a.dim, "input");
  const auto bias = relative_bias(table, index, a.window, a.heads);
  // torchvision's scale_factor is feat_dim ** -0.5, on k
  const GroupedAttention grouped{.tokens = a.window * a.window,
                                 .heads = a.heads,
                                 .bias = &bias,
                                 .scale = static_cast<float>(std::pow(static_cast<double>(a.dim), -0.5)),
                                 .scale_keys = true};
  return attend_in_groups(x, grouped, qkv_weight, qkv_bias, merge_weight, merge_bias);
}

Tensor patch_merging(const Tensor& x, const nn::PatchMergingAttrs& a, const Tensor& reduction,
                     const Tensor& norm_weight, const Tensor& norm_bias) {
  const std::int64_t c = a.dim, rows = a.grid[0], cols = a.grid[1];
  require_tokens(x, c, "input");
  if (x.dim(1) != rows * cols) {
    throw Error(ErrorKind::BadInput, fmt::format("{} tokens are not a {}x{} grid", x.dim(1), rows, cols));
  }
  // torch.cat([x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2]], -1) of the grid padded to even sides
  const std::int64_t n = x.dim(0), out_rows = (rows + 1) / 2, out_cols = (cols + 1) / 2;
  Tensor merged(DType::Float32, {n, out_rows * out_cols, 4 * c});
  for (std::int64_t b = 0; b < n; ++b) {
    for (std::int64_t r = 0; r < out_rows; ++r) {
      for (std::int64_t col = 0; col < out_cols; ++col) {
        float* dst = merged.f32().data() + ((b * out_rows + r) * out_cols + col) * 4 * c;
        for (std::int64_t part = 0; part < 4; ++part) {
          const std::int64_t y = 2 * r + part % 2, xx = 2 * col + part / 2;
          float* into = dst + part * c;
          if (y < rows && xx < cols) {
            std::memcpy(into, x.f32().data() + (b * rows * cols + y * cols + xx) * c,
                        static_cast<std::size_t>(c) * sizeof(float));
          } else {
            std::fill(into, into + c, 0.0f);
          }
        }
      }
    }
  }
  return token_linear(layer_norm_tokens(merged, norm_weight, norm_bias, a.eps), reduction, nullptr);
}

Tensor token_mean(const Tensor& x) {
  require_rank(x, 3, "input");
  const std::int64_t n = x.dim(0), length = x.dim(1), d = x.dim(2);
  if (length < 1) throw Error(ErrorKind::BadInput, "the mean of a sequence of no tokens");
  Tensor out(DType::Float32, {n, d});
  for (std::int64_t b = 0; b < n; ++b) {
    for (std::int64_t ch = 0; ch < d; ++ch) {
      double sum = 0.0;
      for (std::int64_t t = 0; t < length; ++t) sum += x.f32()[static_cast<std::size_t>((b * length + t) * d + ch)];
      out.f32()[static_cast<std::size_t>(b * d + ch)] = static_cast<float>(sum / static_cast<double>(length));
    }
  }
  return out;
}

}  // namespace pt2onnx::reference
