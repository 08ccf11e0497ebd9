// pt2onnx bench MODEL.onnx [--batch-size N ...] [--threads T] [--streams S]
//                          [--seconds S] [--warmup W] [--json]
// Measures the engine alone: load (timed), first inference (timed), warm-up,
// then timed runs for each batch size on random inputs from a fixed seed.
// With S streams, S threads run the one loaded model concurrently (shared
// weights and plans, one arena each), each with T / S kernel threads.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/engine_bench.h"
#include "commands.h"
#include "common/cpu_budget.h"
#include "pt2onnx/runtime.h"
#include "shared_options.h"

namespace pt2onnx::cli {
namespace {

using Clock = std::chrono::steady_clock;
using bench::ms_since;
using bench::peak_rss_mb;
using bench::percentile;

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
    fmt::print("memory: {}\n", runtime::memory_policy());
  }
  for (const int batch : batches) {
    const auto inputs = bench::random_inputs(model.inputs(), batch);
    if (first) {
      const auto t0 = Clock::now();
      model.run(inputs);
      first_ms = ms_since(t0);
      first = false;
    }
    const auto before = model.team_runs();
    const auto r = bench::measure(model, inputs, batch, {args.streams, args.seconds, args.warmup});
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
                       {"wait_policy", runtime::wait_policy()},
                       {"memory_policy", runtime::memory_policy()}};
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
  add_threads_option(*cmd, args->threads, "kernel threads in all (default: the physical cores)");
  cmd->add_option("--streams", args->streams,
                  "concurrent inference streams over the one loaded model, sharing the threads (default 1)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--seconds", args->seconds, "timed seconds per batch size (default 3)")
      ->check(finite_in(0.0, 3600.0));
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
