#include "bench/engine_bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <exception>
#include <thread>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx::bench {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

namespace {

// CPU time of the whole process (all threads), in ms: on a shared machine
// CPU time per image moves less than wall time when others load the cores.
double cpu_ms() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto ms = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3;
  };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

}  // namespace

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

std::vector<Tensor> random_inputs(const std::vector<runtime::TensorInfo>& infos, int batch) {
  std::uint64_t state = 42;
  std::vector<Tensor> inputs;
  for (const auto& info : infos) {
    Shape shape = info.shape;
    for (std::size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] >= 0) continue;
      if (d != 0) {
        throw_error(ErrorKind::Usage, fmt::format("input '{}' has a symbolic dim {} past the batch; bench needs "
                                                  "fixed sizes there",
                                                  info.name, d));
      }
      shape[d] = batch;
    }
    Tensor t(DType::Float32, shape);
    for (auto& v : t.f32()) {
      state += 0x9e3779b97f4a7c15ULL;
      auto z = state;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      z ^= z >> 31;
      v = static_cast<float>(z >> 40) / 8388608.0f - 1.0f;
    }
    inputs.push_back(std::move(t));
  }
  return inputs;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0.0;
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

// S streams over one model; each warms up, waits for the others, then runs
// until the deadline. Throughput counts images over the wall time of the
// timed phase. Stream 0 is the calling thread: libgomp keeps one thread pool
// per thread that has started a parallel region, and once pools hold more
// threads than there are CPUs it stops spinning between regions, so a second
// pool (the loader's, on this thread, beside a stream thread's) would put the
// workers to sleep between layers and cost a wake-up per primitive.
BatchResult measure(runtime::Model& model, const std::vector<Tensor>& inputs, int batch, const MeasureOptions& args) {
  const auto streams = static_cast<std::size_t>(args.streams);
  std::vector<std::vector<double>> latencies(streams);
  std::vector<std::exception_ptr> errors(streams);
  Clock::time_point start, deadline;
  double cpu_start = 0.0;
  bool go = false;
  // Runs once, when every stream has warmed up: starts the clock.
  auto on_start = [&]() noexcept {
    go = std::none_of(errors.begin(), errors.end(), [](const auto& e) { return e != nullptr; });
    start = Clock::now();
    cpu_start = cpu_ms();
    deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(args.seconds));
  };
  std::barrier start_line(static_cast<std::ptrdiff_t>(streams), on_start);
  auto body = [&](std::size_t s) {
    try {
      for (int i = 0; i < args.warmup; ++i) model.run(inputs);
    } catch (...) {
      errors[s] = std::current_exception();
    }
    start_line.arrive_and_wait();
    if (errors[s] || !go) return;
    try {
      auto& mine = latencies[s];
      mine.reserve(4096);
      while (Clock::now() < deadline || mine.empty()) {
        const auto t0 = Clock::now();
        auto out = model.run(inputs);
        mine.push_back(ms_since(t0));
      }
    } catch (...) {
      errors[s] = std::current_exception();
    }
  };
  {
    std::vector<std::jthread> threads;
    for (std::size_t s = 1; s < streams; ++s) threads.emplace_back(body, s);
    body(0);
  }  // joins
  const double wall_s = ms_since(start) / 1000.0;
  const double cpu_used = cpu_ms() - cpu_start;
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  BatchResult r;
  for (const auto& l : latencies) r.latencies_ms.insert(r.latencies_ms.end(), l.begin(), l.end());
  std::sort(r.latencies_ms.begin(), r.latencies_ms.end());
  const auto images = static_cast<double>(r.latencies_ms.size()) * batch;
  r.images_per_second = images / wall_s;
  r.cpu_ms_per_image = cpu_used / images;
  return r;
}

}  // namespace pt2onnx::bench
