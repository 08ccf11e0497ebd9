// Plain, obviously correct implementations of the operators, written for the
// tests only (double accumulation, NCHW loops). They share nothing with the
// runtime, so a runtime test compares two independent implementations.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace pt2onnx::testing {

struct Conv2d {
  std::int64_t n = 1, c = 1, h = 1, w = 1;  // input
  std::int64_t m = 1, kh = 1, kw = 1;       // output channels, kernel
  std::int64_t group = 1;
  std::int64_t sh = 1, sw = 1, dh = 1, dw = 1;
  std::int64_t pt = 0, pl = 0, pb = 0, pr = 0;  // pads top, left, bottom, right
  [[nodiscard]] std::int64_t oh() const { return (h + pt + pb - ((kh - 1) * dh + 1)) / sh + 1; }
  [[nodiscard]] std::int64_t ow() const { return (w + pl + pr - ((kw - 1) * dw + 1)) / sw + 1; }
};

inline std::vector<float> naive_conv2d(const std::vector<float>& x, const std::vector<float>& wt,
                                       const std::vector<float>& bias, const Conv2d& p) {
  const auto oh = p.oh(), ow = p.ow();
  const auto cg = p.c / p.group, mg = p.m / p.group;
  std::vector<float> y(static_cast<std::size_t>(p.n * p.m * oh * ow));
  for (std::int64_t n = 0; n < p.n; ++n)
    for (std::int64_t m = 0; m < p.m; ++m) {
      const auto g = m / mg;
      for (std::int64_t i = 0; i < oh; ++i)
        for (std::int64_t j = 0; j < ow; ++j) {
          double acc = bias.empty() ? 0.0 : bias[static_cast<std::size_t>(m)];
          for (std::int64_t c = 0; c < cg; ++c)
            for (std::int64_t a = 0; a < p.kh; ++a)
              for (std::int64_t b = 0; b < p.kw; ++b) {
                const auto yy = i * p.sh - p.pt + a * p.dh;
                const auto xx = j * p.sw - p.pl + b * p.dw;
                if (yy < 0 || yy >= p.h || xx < 0 || xx >= p.w) continue;
                const auto xi = ((n * p.c + g * cg + c) * p.h + yy) * p.w + xx;
                const auto wi = ((m * cg + c) * p.kh + a) * p.kw + b;
                acc += static_cast<double>(x[static_cast<std::size_t>(xi)]) * wt[static_cast<std::size_t>(wi)];
              }
          y[static_cast<std::size_t>(((n * p.m + m) * oh + i) * ow + j)] = static_cast<float>(acc);
        }
    }
  return y;
}

struct Pool2d {
  std::int64_t n = 1, c = 1, h = 1, w = 1;
  std::int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  std::int64_t pt = 0, pl = 0, pb = 0, pr = 0;
  bool ceil_mode = false;
  bool count_include_pad = false;
  // PyTorch's output size: ceil_mode rounds up, but a window may not start in the end padding.
  static std::int64_t out_size(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t d, std::int64_t p0,
                               std::int64_t p1, bool ceil_mode) {
    const auto span = (k - 1) * d + 1;
    const auto num = in + p0 + p1 - span;
    auto out = (ceil_mode ? (num + s - 1) / s : num / s) + 1;
    if (ceil_mode && (out - 1) * s >= in + p0) --out;
    return out;
  }
  [[nodiscard]] std::int64_t oh() const { return out_size(h, kh, sh, dh, pt, pb, ceil_mode); }
  [[nodiscard]] std::int64_t ow() const { return out_size(w, kw, sw, dw, pl, pr, ceil_mode); }
};

inline std::vector<float> naive_pool2d(const std::vector<float>& x, const Pool2d& p, bool max) {
  const auto oh = p.oh(), ow = p.ow();
  std::vector<float> y(static_cast<std::size_t>(p.n * p.c * oh * ow));
  for (std::int64_t nc = 0; nc < p.n * p.c; ++nc)
    for (std::int64_t i = 0; i < oh; ++i)
      for (std::int64_t j = 0; j < ow; ++j) {
        const auto y0 = i * p.sh - p.pt, x0 = j * p.sw - p.pl;
        double acc = max ? -std::numeric_limits<double>::infinity() : 0.0;
        std::int64_t count = 0;
        for (std::int64_t a = 0; a < p.kh; ++a)
          for (std::int64_t b = 0; b < p.kw; ++b) {
            const auto yy = y0 + a * p.dh, xx = x0 + b * p.dw;
            if (yy < 0 || yy >= p.h || xx < 0 || xx >= p.w) continue;
            const double v = x[static_cast<std::size_t>((nc * p.h + yy) * p.w + xx)];
            acc = max ? std::max(acc, v) : acc + v;
            ++count;
          }
        if (!max) {
          if (p.count_include_pad) {
            // The window clipped to the padded input (not to the ceil_mode overhang).
            const auto hend = std::min(y0 + p.kh, p.h + p.pb), wend = std::min(x0 + p.kw, p.w + p.pr);
            count = (hend - y0) * (wend - x0);
          }
          acc /= static_cast<double>(count);
        }
        y[static_cast<std::size_t>((nc * oh + i) * ow + j)] = static_cast<float>(acc);
      }
  return y;
}

// Numpy broadcasting of a binary function.
template <typename F>
std::vector<float> naive_broadcast(const std::vector<float>& a, std::vector<std::int64_t> da,
                                   const std::vector<float>& b, std::vector<std::int64_t> db,
                                   std::vector<std::int64_t>& out_dims, F f) {
  const auto rank = std::max(da.size(), db.size());
  while (da.size() < rank) da.insert(da.begin(), 1);
  while (db.size() < rank) db.insert(db.begin(), 1);
  out_dims.assign(rank, 1);
  for (std::size_t i = 0; i < rank; ++i) out_dims[i] = std::max(da[i], db[i]);
  std::int64_t total = 1;
  for (auto d : out_dims) total *= d;
  std::vector<float> out(static_cast<std::size_t>(total));
  for (std::int64_t i = 0; i < total; ++i) {
    std::int64_t rest = i, ia = 0, ib = 0, sa = 1, sb = 1;
    for (auto d = rank; d-- > 0;) {
      const auto k = rest % out_dims[d];
      rest /= out_dims[d];
      ia += (da[d] == 1 ? 0 : k) * sa;
      ib += (db[d] == 1 ? 0 : k) * sb;
      sa *= da[d];
      sb *= db[d];
    }
    out[static_cast<std::size_t>(i)] = f(a[static_cast<std::size_t>(ia)], b[static_cast<std::size_t>(ib)]);
  }
  return out;
}

// C = A[m,k] x B[k,n] in double.
inline std::vector<float> naive_matmul2d(const std::vector<float>& a, const std::vector<float>& b, std::int64_t m,
                                         std::int64_t k, std::int64_t n) {
  std::vector<float> c(static_cast<std::size_t>(m * n));
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double acc = 0.0;
      for (std::int64_t t = 0; t < k; ++t) {
        acc += static_cast<double>(a[static_cast<std::size_t>(i * k + t)]) * b[static_cast<std::size_t>(t * n + j)];
      }
      c[static_cast<std::size_t>(i * n + j)] = static_cast<float>(acc);
    }
  return c;
}

inline std::vector<float> transpose2d(const std::vector<float>& a, std::int64_t rows, std::int64_t cols) {
  std::vector<float> t(a.size());
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j)
      t[static_cast<std::size_t>(j * rows + i)] = a[static_cast<std::size_t>(i * cols + j)];
  return t;
}

// Softmax over axis `axis` of a tensor viewed as [outer, dim, inner].
inline std::vector<float> naive_softmax(const std::vector<float>& x, std::int64_t outer, std::int64_t dim,
                                        std::int64_t inner) {
  std::vector<float> y(x.size());
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t i = 0; i < inner; ++i) {
      double mx = -std::numeric_limits<double>::infinity();
      for (std::int64_t d = 0; d < dim; ++d)
        mx = std::max(mx, static_cast<double>(x[static_cast<std::size_t>((o * dim + d) * inner + i)]));
      double sum = 0.0;
      for (std::int64_t d = 0; d < dim; ++d)
        sum += std::exp(x[static_cast<std::size_t>((o * dim + d) * inner + i)] - mx);
      for (std::int64_t d = 0; d < dim; ++d) {
        const auto idx = static_cast<std::size_t>((o * dim + d) * inner + i);
        y[idx] = static_cast<float>(std::exp(x[idx] - mx) / sum);
      }
    }
  return y;
}

inline float naive_sigmoid(float x) { return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x)))); }
inline float naive_relu(float x) { return x > 0.0f ? x : 0.0f; }
inline float naive_hard_sigmoid(float x, float alpha = 0.2f, float beta = 0.5f) {
  return std::max(0.0f, std::min(1.0f, alpha * x + beta));
}
inline float naive_hard_swish(float x) { return x * naive_hard_sigmoid(x, 1.0f / 6.0f, 0.5f); }
inline float naive_swish(float x) { return x * naive_sigmoid(x); }

template <typename F>
std::vector<float> map_values(std::vector<float> v, F f) {
  for (auto& x : v) x = f(x);
  return v;
}

// Row-major strides of dims.
inline std::vector<std::int64_t> naive_strides(const std::vector<std::int64_t>& dims) {
  std::vector<std::int64_t> s(dims.size(), 1);
  for (auto i = dims.size(); i-- > 1;) s[i - 1] = s[i] * dims[i];
  return s;
}

// ONNX Transpose: output axis i is input axis perm[i].
inline std::vector<float> naive_transpose(const std::vector<float>& x, const std::vector<std::int64_t>& dims,
                                          const std::vector<std::int64_t>& perm) {
  const auto in_strides = naive_strides(dims);
  std::vector<std::int64_t> out_dims;
  for (auto p : perm) out_dims.push_back(dims[static_cast<std::size_t>(p)]);
  std::vector<float> y(x.size());
  std::vector<std::int64_t> idx(dims.size(), 0);  // output index
  for (std::size_t i = 0; i < y.size(); ++i) {
    std::int64_t src = 0;
    for (std::size_t a = 0; a < perm.size(); ++a) src += idx[a] * in_strides[static_cast<std::size_t>(perm[a])];
    y[i] = x[static_cast<std::size_t>(src)];
    for (auto a = out_dims.size(); a-- > 0;) {
      if (++idx[a] < out_dims[a]) break;
      idx[a] = 0;
    }
  }
  return y;
}

// ONNX Gather: out[a.., j.., b..] = x[a.., indices[j..], b..], a negative
// index counted from the end of the axis; `indices` flattened (the output's
// shape is dims[:axis] + indices' shape + dims[axis + 1:]).
inline std::vector<float> naive_gather(const std::vector<float>& x, const std::vector<std::int64_t>& dims,
                                       std::int64_t axis, const std::vector<std::int64_t>& indices) {
  const auto a = static_cast<std::size_t>(axis < 0 ? axis + static_cast<std::int64_t>(dims.size()) : axis);
  const auto in_strides = naive_strides(dims);
  std::vector<std::int64_t> out_dims(dims.begin(), dims.begin() + static_cast<std::ptrdiff_t>(a));
  out_dims.push_back(static_cast<std::int64_t>(indices.size()));
  out_dims.insert(out_dims.end(), dims.begin() + static_cast<std::ptrdiff_t>(a) + 1, dims.end());
  std::int64_t total = 1;
  for (auto d : out_dims) total *= d;
  std::vector<float> y;
  std::vector<std::int64_t> idx(out_dims.size(), 0);  // output index
  for (std::int64_t i = 0; i < total; ++i) {
    std::int64_t src = 0;
    for (std::size_t k = 0; k < idx.size(); ++k) {
      auto coord = idx[k];
      if (k == a) {
        coord = indices[static_cast<std::size_t>(coord)];
        if (coord < 0) coord += dims[a];
      }
      src += coord * in_strides[k];
    }
    y.push_back(x[static_cast<std::size_t>(src)]);
    for (auto k = out_dims.size(); k-- > 0;) {
      if (++idx[k] < out_dims[k]) break;
      idx[k] = 0;
    }
  }
  return y;
}

// Mean over `axes` (sorted, unique) in double; the output keeps the reduced
// axes as 1 (drop them from the shape for keepdims 0: same values).
inline std::vector<float> naive_reduce_mean(const std::vector<float>& x, const std::vector<std::int64_t>& dims,
                                            const std::vector<std::int64_t>& axes) {
  auto out_dims = dims;
  std::int64_t count = 1;
  for (auto a : axes) {
    count *= dims[static_cast<std::size_t>(a)];
    out_dims[static_cast<std::size_t>(a)] = 1;
  }
  const auto out_strides = naive_strides(out_dims);
  std::int64_t total = 1;
  for (auto d : out_dims) total *= d;
  std::vector<double> sum(static_cast<std::size_t>(total), 0.0);
  for (std::size_t i = 0; i < x.size(); ++i) {
    std::int64_t rest = static_cast<std::int64_t>(i), dst = 0;
    for (auto a = dims.size(); a-- > 0;) {
      const auto k = rest % dims[a];
      rest /= dims[a];
      if (out_dims[a] != 1 || dims[a] == 1) dst += k * out_strides[a];
    }
    sum[static_cast<std::size_t>(dst)] += x[i];
  }
  std::vector<float> y(sum.size());
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<float>(sum[i] / static_cast<double>(count));
  return y;
}

// LayerNormalization of x seen as [outer, inner]: (x - mean) / sqrt(var + eps)
// * scale + bias, with scale and bias given as `inner` values (bias may be empty).
inline std::vector<float> naive_layer_norm(const std::vector<float>& x, std::int64_t outer, std::int64_t inner,
                                           const std::vector<float>& scale, const std::vector<float>& bias,
                                           double eps) {
  std::vector<float> y(x.size());
  for (std::int64_t o = 0; o < outer; ++o) {
    double mean = 0.0, var = 0.0;
    for (std::int64_t i = 0; i < inner; ++i) mean += x[static_cast<std::size_t>(o * inner + i)];
    mean /= static_cast<double>(inner);
    for (std::int64_t i = 0; i < inner; ++i) {
      const double d = x[static_cast<std::size_t>(o * inner + i)] - mean;
      var += d * d;
    }
    var /= static_cast<double>(inner);
    for (std::int64_t i = 0; i < inner; ++i) {
      const auto k = static_cast<std::size_t>(i);
      const double v = (x[static_cast<std::size_t>(o * inner + i)] - mean) / std::sqrt(var + eps) * scale[k] +
                       (bias.empty() ? 0.0 : bias[k]);
      y[static_cast<std::size_t>(o * inner + i)] = static_cast<float>(v);
    }
  }
  return y;
}

inline float naive_erf(float x) { return static_cast<float>(std::erf(static_cast<double>(x))); }
// The exact GELU: x * 0.5 * (1 + erf(x / sqrt(2))).
inline float naive_gelu(float x) {
  const double d = x;
  return static_cast<float>(d * 0.5 * (1.0 + std::erf(d / std::sqrt(2.0))));
}

// The element of an operand of dims `in` that numpy broadcasting reads for
// element `out_index` (row-major) of an output of dims `out`.
inline std::int64_t naive_broadcast_index(std::int64_t out_index, const std::vector<std::int64_t>& in,
                                          const std::vector<std::int64_t>& out) {
  const auto lead = out.size() - in.size();
  std::int64_t src = 0, stride = 1, rest = out_index;
  for (auto a = out.size(); a-- > 0;) {
    const auto k = rest % out[a];
    rest /= out[a];
    if (a < lead) continue;
    const auto d = in[a - lead];
    src += (d == 1 ? 0 : k) * stride;
    stride *= d;
  }
  return src;
}

}  // namespace pt2onnx::testing
