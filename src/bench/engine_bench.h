// Measuring the engine, as `pt2onnx bench` does: fixed-seed inputs, S
// concurrent streams over one loaded model, latency percentiles, images/s,
// the process's CPU time per image and peak memory. bench/ compares the
// figures with ONNX Runtime's (bench/ort_bench.js feeds the same inputs).
#pragma once

#include <chrono>
#include <vector>

#include "pt2onnx/runtime.h"

namespace pt2onnx::bench {

// splitmix64 from seed 42, uniform in [-1, 1): every run (and ort_bench.js)
// feeds the same values. The batch fills each input's symbolic first dim;
// Error(Usage) for a symbolic dim past it.
std::vector<Tensor> random_inputs(const std::vector<runtime::TensorInfo>& infos, int batch);

struct MeasureOptions {
  int streams = 1;       // threads running the model at once
  double seconds = 3.0;  // timed phase
  int warmup = 3;        // untimed runs per stream first
};

struct BatchResult {
  std::vector<double> latencies_ms;  // sorted, every stream's runs
  double images_per_second = 0.0;
  double cpu_ms_per_image = 0.0;
};

BatchResult measure(runtime::Model& model, const std::vector<Tensor>& inputs, int batch, const MeasureOptions& options);

// p in [0, 100] of sorted values (nearest rank); 0 for none.
double percentile(const std::vector<double>& sorted, double p);

// The process's peak resident memory so far, MB.
double peak_rss_mb();

// Milliseconds since t0.
double ms_since(std::chrono::steady_clock::time_point t0);

}  // namespace pt2onnx::bench
