// Pooling: AdaptiveAvgPool2d (the global average and other output sizes), torch's MaxPool2d and AvgPool2d.
#include <cmath>
#include <limits>

#include "reference/checks.h"
#include "reference/ops.h"
#include "reference/parallel.h"

namespace pt2onnx::reference {
namespace {

// The sum of n floats in double, as kLanes interleaved partial sums added up
// at the end: independent chains the compiler can vectorise, where a single
// running sum waits for each add.
constexpr std::int64_t kLanes = 8;

PT2ONNX_TARGET_CLONES
double plane_sum(const float* x, std::int64_t n) {
  double lanes[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (std::int64_t l = 0; l < kLanes; ++l) lanes[l] += static_cast<double>(x[i + l]);
  }
  double sum = 0.0;
  for (std::int64_t l = 0; l < kLanes; ++l) sum += lanes[l];
  for (; i < n; ++i) sum += static_cast<double>(x[i]);
  return sum;
}

}  // namespace

Tensor adaptive_avg_pool_1x1(const Tensor& x) {
  require_rank(x, 4, "input");
  const std::int64_t plane = x.dim(2) * x.dim(3);
  if (plane == 0) throw Error(ErrorKind::BadInput, "cannot average over an empty plane");
  Tensor out(DType::Float32, {x.dim(0), x.dim(1), 1, 1});
  const float* src = x.f32().data();
  float* dst = out.f32().data();
  parallel_for(x.dim(0) * x.dim(1), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t nc = begin; nc < end; ++nc) {
      dst[nc] = static_cast<float>(plane_sum(src + nc * plane, plane) / static_cast<double>(plane));
    }
  });
  return out;
}

Tensor adaptive_avg_pool2d(const Tensor& x, std::int64_t out_h, std::int64_t out_w) {
  require_rank(x, 4, "input");
  if (out_h == 1 && out_w == 1) return adaptive_avg_pool_1x1(x);
  const std::int64_t height = x.dim(2), width = x.dim(3);
  if (out_h < 1 || out_w < 1 || height == 0 || width == 0) {
    throw Error(ErrorKind::BadInput, fmt::format("cannot pool {}x{} to {}x{}", height, width, out_h, out_w));
  }
  // torch's windows: [floor(i * L / n), ceil((i + 1) * L / n)).
  const auto start = [](std::int64_t i, std::int64_t in, std::int64_t out) { return i * in / out; };
  const auto stop = [](std::int64_t i, std::int64_t in, std::int64_t out) { return ((i + 1) * in + out - 1) / out; };
  Tensor result(DType::Float32, {x.dim(0), x.dim(1), out_h, out_w});
  const float* src = x.f32().data();
  float* dst = result.f32().data();
  parallel_for(x.dim(0) * x.dim(1), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t nc = begin; nc < end; ++nc) {
      const float* plane = src + nc * height * width;
      for (std::int64_t oy = 0; oy < out_h; ++oy) {
        const std::int64_t y0 = start(oy, height, out_h), y1 = stop(oy, height, out_h);
        for (std::int64_t ox = 0; ox < out_w; ++ox) {
          const std::int64_t x0 = start(ox, width, out_w), x1 = stop(ox, width, out_w);
          double sum = 0.0;
          for (std::int64_t iy = y0; iy < y1; ++iy) {
            for (std::int64_t ix = x0; ix < x1; ++ix) sum += static_cast<double>(plane[iy * width + ix]);
          }
          dst[(nc * out_h + oy) * out_w + ox] = static_cast<float>(sum / static_cast<double>((y1 - y0) * (x1 - x0)));
        }
      }
    }
  });
  return result;
}

Tensor max_pool2d(const Tensor& x, const nn::PoolAttrs& a) {
  require_rank(x, 4, "input");
  // torch requires padding <= kernel / 2, so that no window lies wholly in the padding.
  for (int axis = 0; axis < 2; ++axis) {
    if (a.padding[axis] * 2 > a.kernel[axis]) {
      throw Error(ErrorKind::BadInput,
                  fmt::format("padding {} is more than half the kernel {}", a.padding[axis], a.kernel[axis]));
    }
  }
  const std::int64_t height = x.dim(2), width = x.dim(3);
  const std::int64_t out_h = pool_output_size(height, a.kernel[0], a.stride[0], a.padding[0], a.ceil_mode);
  const std::int64_t out_w = pool_output_size(width, a.kernel[1], a.stride[1], a.padding[1], a.ceil_mode);
  Tensor out(DType::Float32, {x.dim(0), x.dim(1), out_h, out_w});
  const auto src = x.f32();
  auto dst = out.f32();
  for (std::int64_t nc = 0; nc < x.dim(0) * x.dim(1); ++nc) {
    const float* plane = src.data() + nc * height * width;
    for (std::int64_t oy = 0; oy < out_h; ++oy) {
      for (std::int64_t ox = 0; ox < out_w; ++ox) {
        float best = -std::numeric_limits<float>::infinity();
        for (std::int64_t ky = 0; ky < a.kernel[0]; ++ky) {
          const std::int64_t iy = oy * a.stride[0] - a.padding[0] + ky;
          if (iy < 0 || iy >= height) continue;
          for (std::int64_t kx = 0; kx < a.kernel[1]; ++kx) {
            const std::int64_t ix = ox * a.stride[1] - a.padding[1] + kx;
            if (ix < 0 || ix >= width) continue;
            const float v = plane[iy * width + ix];
            if (v > best || std::isnan(v)) best = v;
            if (std::isnan(best)) break;
          }
        }
        dst[(nc * out_h + oy) * out_w + ox] = best;
      }
    }
  }
  return out;
}

Tensor avg_pool2d(const Tensor& x, const nn::PoolAttrs& a) {
  require_rank(x, 4, "input");
  if (a.ceil_mode) throw Error(ErrorKind::Unsupported, "AvgPool2d with ceil_mode (only floor mode is implemented)");
  const std::int64_t height = x.dim(2), width = x.dim(3);
  const std::int64_t out_h = window_output_size(height, a.kernel[0], a.stride[0], a.padding[0], 1);
  const std::int64_t out_w = window_output_size(width, a.kernel[1], a.stride[1], a.padding[1], 1);
  Tensor out(DType::Float32, {x.dim(0), x.dim(1), out_h, out_w});
  const float* src = x.f32().data();
  float* dst = out.f32().data();
  // torch's count_include_pad: padded cells are zeros that count in the divisor.
  const double count = static_cast<double>(a.kernel[0] * a.kernel[1]);
  parallel_for(x.dim(0) * x.dim(1), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t nc = begin; nc < end; ++nc) {
      const float* plane = src + nc * height * width;
      for (std::int64_t oy = 0; oy < out_h; ++oy) {
        for (std::int64_t ox = 0; ox < out_w; ++ox) {
          double sum = 0.0;
          for (std::int64_t ky = 0; ky < a.kernel[0]; ++ky) {
            const std::int64_t iy = oy * a.stride[0] - a.padding[0] + ky;
            if (iy < 0 || iy >= height) continue;
            for (std::int64_t kx = 0; kx < a.kernel[1]; ++kx) {
              const std::int64_t ix = ox * a.stride[1] - a.padding[1] + kx;
              if (ix >= 0 && ix < width) sum += static_cast<double>(plane[iy * width + ix]);
            }
          }
          dst[(nc * out_h + oy) * out_w + ox] = static_cast<float>(sum / count);
        }
      }
    }
  });
  return out;
}

}  // namespace pt2onnx::reference
