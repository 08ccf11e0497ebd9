// pt2onnx bench MODEL.onnx [--batch-size N ...] [--threads T] [--streams S]
//                          [--seconds S] [--warmup W] [--json]
// Measures the engine alone: load (timed), first inference (timed), warm-up,
// then timed runs for each batch size on random inputs from a fixed seed.
// With S streams, S threads run the one loaded model concurrently (shared
// weights and plans, one arena each), each with T / S kernel threads.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common/cpu_budget.h"
#include "pt2onnx/runtime.h"

namespace pt2onnx::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchArgs {
  std::string model;
  std::vector<int> batch_sizes;
  int threads = 0;
  int streams = 1;
  double seconds = 3.0;
  int warmup = 3;
  bool json = false;
  std::vector<std::string> disabled_passes;
  bool no_split = false;
  bool fixed_team = false;
};

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

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

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

// splitmix64: a fixed, portable stream, so every run (and ort_bench.js)
// feeds the same values; uniform in [-1, 1).
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

struct BatchResult {
  std::vector<double> latencies_ms;  // sorted
  double images_per_second = 0.0;
  double cpu_ms_per_image = 0.0;
};

// S streams over one model; each warms up, waits for the others, then runs
// until the deadline. Throughput counts images over the wall time of the
// timed phase. Stream 0 is the calling thread: libgomp keeps one thread pool
// per thread that has started a parallel region, and once pools hold more
// threads than there are CPUs it stops spinning between regions, so a second
// pool (the loader's, on this thread, beside a stream thread's) would put the
// workers to sleep between layers and cost a wake-up per primitive.
BatchResult measure(runtime::Model& model, const std::vector<Tensor>& inputs, int batch, const BenchArgs& args) {
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

int run_bench(const BenchArgs& args) {
  const CpuBudget budget = cpu_budget();
  const int total_threads = args.threads > 0 ? args.threads : budget.cores;
  if (args.streams > total_threads) {
    throw_error(ErrorKind::Usage,
                fmt::format("{} streams need at least as many threads; --threads is {}", args.streams, total_threads));
  }
  runtime::Options options;
  options.threads = std::max(1, total_threads / args.streams);
  options.disabled_passes = args.disabled_passes;
  options.split_batch = !args.no_split;
  options.adaptive_team = !args.fixed_team;
  const auto t_load = Clock::now();
  auto model = runtime::Model::load(args.model, options);
  const double load_ms = ms_since(t_load);
  const auto batches = args.batch_sizes.empty() ? std::vector<int>{1} : args.batch_sizes;

  double first_ms = 0.0;
  bool first = true;
  if (!args.json) {
    fmt::print("{}: {} thread(s) in {} stream(s) of {}, load {:.1f} ms\n", args.model, total_threads, args.streams,
               model.threads(), load_ms);
    fmt::print("threads: {} ({})\n", total_threads,
               args.threads > 0 ? std::string("--threads") : "default: " + budget.why);
    fmt::print("waiting threads: {}\n", runtime::wait_policy());
  }
  for (const int batch : batches) {
    const auto inputs = random_inputs(model.inputs(), batch);
    if (first) {
      const auto t0 = Clock::now();
      model.run(inputs);
      first_ms = ms_since(t0);
      first = false;
    }
    const auto before = model.team_runs();
    const auto r = measure(model, inputs, batch, args);
    const auto after = model.team_runs();
    const auto team_runs = after.team - before.team;
    const auto single_runs = after.one_thread - before.one_thread;
    const auto& l = r.latencies_ms;
    if (args.json) {
      nlohmann::json j{{"engine", "pt2onnx"},
                       {"batch_size", batch},
                       {"threads", total_threads},
                       {"threads_per_stream", model.threads()},
                       {"streams", args.streams},
                       {"runs", l.size()},
                       {"images_per_second", r.images_per_second},
                       {"latency_ms_p50", percentile(l, 50)},
                       {"latency_ms_p90", percentile(l, 90)},
                       {"latency_ms_p99", percentile(l, 99)},
                       {"cpu_ms_per_image", r.cpu_ms_per_image},
                       {"peak_rss_mb", peak_rss_mb()},
                       {"load_ms", load_ms},
                       {"first_run_ms", first_ms},
                       {"team_runs", team_runs},
                       {"one_thread_runs", single_runs},
                       {"wait_policy", runtime::wait_policy()}};
      fmt::print("{}\n", j.dump());
    } else {
      fmt::print(
          "batch {:>3}: latency p50 {:.2f} ms, p90 {:.2f} ms, p99 {:.2f} ms ({} runs); CPU {:.2f} ms/image; "
          "peak RSS {:.0f} MB; {:.1f} images/s\n",
          batch, percentile(l, 50), percentile(l, 90), percentile(l, 99), l.size(), r.cpu_ms_per_image, peak_rss_mb(),
          r.images_per_second);
      if (team_runs + single_runs > 0) {
        fmt::print("           team of {} threads for {} of {} runs (one thread for the rest: measured faster{})\n",
                   model.threads(), team_runs, team_runs + single_runs,
                   args.streams > 1 ? " or CPUs held by the other streams" : "");
      }
    }
    std::fflush(stdout);
  }
  if (!args.json) fmt::print("cold start (load + first inference): {:.1f} ms\n", load_ms + first_ms);
  return static_cast<int>(ExitCode::Ok);
}

}  // namespace

void add_bench_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<BenchArgs>();
  auto* cmd = app.add_subcommand("bench", "Measure the engine's speed on an ONNX model (random inputs, fixed seed)");
  cmd->add_option("model", args->model, "ONNX model file")->required();
  cmd->add_option("--batch-size,-b", args->batch_sizes, "batch size; repeatable (default 1)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--threads", args->threads, "kernel threads in all (default: the physical cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--streams", args->streams,
                  "concurrent inference streams over the one loaded model, sharing the threads (default 1)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--seconds", args->seconds, "timed seconds per batch size (default 3)")
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--warmup", args->warmup, "untimed runs per stream before timing (default 3)")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--disable-pass", args->disabled_passes, "skip one graph pass by name; repeatable (to measure it)");
  cmd->add_flag("--no-split-batch", args->no_split,
                "run each batch as one wide batch on all threads instead of one image per thread");
  cmd->add_flag("--fixed-team", args->fixed_team,
                "always run on the full team of threads, even where one thread is measured faster (a busy machine)");
  cmd->add_flag("--json", args->json,
                "one JSON object per batch size on stdout (peak_rss_mb is the process's peak so far)");
  cmd->callback([&action, args] { action = [args] { return run_bench(*args); }; });
}

}  // namespace pt2onnx::cli
