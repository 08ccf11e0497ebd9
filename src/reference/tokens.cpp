// The reference's token operators, for the vision transformers: sequences
// [N, L, D] in and out, double accumulation, each result rounded to float32
// where PyTorch rounds it.
#include <cmath>
#include <cstring>
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
// stride of `stride` floats; out receives softmax(q k^T) v, rows of stride
// `out_stride`. q is already scaled.
void attend(const float* q, const float* k, const float* v, std::int64_t length, std::int64_t dh, std::int64_t stride,
            float* out, std::int64_t out_stride) {
  std::vector<float> scores(static_cast<std::size_t>(length));
  std::vector<double> weights(static_cast<std::size_t>(length));
  for (std::int64_t i = 0; i < length; ++i) {
    const float* qi = q + i * stride;
    float top = -INFINITY;
    for (std::int64_t j = 0; j < length; ++j) {
      const float* kj = k + j * stride;
      double acc = 0.0;
      for (std::int64_t c = 0; c < dh; ++c) acc += static_cast<double>(qi[c]) * static_cast<double>(kj[c]);
      scores[static_cast<std::size_t>(j)] = static_cast<float>(acc);
      top = std::max(top, scores[static_cast<std::size_t>(j)]);
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
  require_rank(x, 3, "input");
  // Each token is a pixel of an [N * L, D, 1, 1] image: the same per-pixel normalisation.
  const Tensor out = layer_norm_channels(x.reshaped({x.dim(0) * x.dim(1), x.dim(2), 1, 1}), weight, bias, eps);
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

}  // namespace pt2onnx::reference
