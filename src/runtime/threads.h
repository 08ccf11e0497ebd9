// The engine's threads: how many a run gets, and when a team is worth it.
// oneDNN here is built on OpenMP, whose team size is set per calling thread.
// docs/runtime.md, "Threads", explains the choices.
#pragma once

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

namespace pt2onnx::runtime {

// The engine's default thread count: one per physical core the calling
// thread may run on, capped by the cgroup CPU limit (common/cpu_budget.h).
int default_threads();

// How the engine's idle OpenMP threads wait. oneDNN runs on libgomp here, and
// every primitive is one parallel region: between two of them a team's
// workers wait for the next. libgomp's default spins for 300,000 rounds
// (about 6 ms) before sleeping; on a machine whose cores other processes also
// want, a spinning thread burns the time slice that the thread it waits for
// needs, and a run can take ten times as long. libgomp reads its settings
// before main, so pt2onnx sets GOMP_SPINCOUNT to kSpinCount before any
// library loads (common/startup_environment.h).
// wait_policy() (include/pt2onnx/runtime.h) says what libgomp was told.

// Sets the OpenMP team size for parallel regions started by this thread.
void set_thread_count(int threads);
// This thread's team size for the parallel regions it starts.
int current_thread_count();

// Runs body(t, threads) once on each thread t of this thread's team, as
// `#pragma omp parallel` does, but for a team of one calls it directly: a
// parallel region of one thread still costs libgomp about a microsecond here
// (a team made and freed), which an engine loop of a few microseconds, run
// many times per image, should not pay. oneDNN's primitives skip it the same
// way.
template <typename Body>
void on_team(Body&& body) {
  if (omp_get_max_threads() <= 1 || omp_in_parallel() != 0) {
    body(std::int64_t{0}, std::int64_t{1});
    return;
  }
#pragma omp parallel
  body(std::int64_t{omp_get_thread_num()}, std::int64_t{omp_get_num_threads()});
}

// The contiguous run [begin, end) of `total` items that thread t of
// `threads` takes: equal runs, the first `total % threads` one item longer.
inline std::pair<std::int64_t, std::int64_t> thread_run(std::int64_t total, std::int64_t threads, std::int64_t t) {
  const std::int64_t per = total / threads, extra = total % threads;
  const std::int64_t begin = t * per + std::min(t, extra);
  return {begin, begin + per + (t < extra ? 1 : 0)};
}

// for (i = 0; i < count; ++i) body(i) on this thread's team, one contiguous
// run of i per thread (OpenMP's static schedule), through on_team.
template <typename Body>
void parallel_for(std::int64_t count, Body&& body) {
  on_team([&](std::int64_t t, std::int64_t threads) {
    const auto [first, last] = thread_run(count, threads, t);
    for (std::int64_t i = first; i < last; ++i) body(i);
  });
}

// Sets this thread's team size for its lifetime and restores the previous one.
class ScopedThreadCount {
 public:
  explicit ScopedThreadCount(int threads);
  ScopedThreadCount(const ScopedThreadCount&) = delete;
  ScopedThreadCount& operator=(const ScopedThreadCount&) = delete;
  ~ScopedThreadCount();

 private:
  int previous_;
};

// The CPUs that every run of the engine in this process shares. A run asks for
// the threads it would like and gets what the other runs leave free, at least
// one (the calling thread itself), so that several callers of a model (a
// server's request threads) do not start callers x threads threads on the
// process's CPUs. A run alone gets all it asks for. Never blocks.
class CpuShare {
 public:
  // `wanted` >= 1. The count is `wanted`, or a power of two below it when
  // other runs hold CPUs (few distinct team sizes: a plan is compiled per size).
  explicit CpuShare(int wanted);
  CpuShare(const CpuShare&) = delete;
  CpuShare& operator=(const CpuShare&) = delete;
  ~CpuShare();
  [[nodiscard]] int count() const { return count_; }

  // CPUs held by runs now; for tests.
  static int in_use();

 private:
  int count_;
};

// Whether repeated runs of one plan go faster on a team of `team` threads or
// on the calling thread alone. On an idle machine the team wins; when other
// processes want the same cores, a team waits at every primitive's barrier
// for a thread that is not running, and one thread wins by far. So runs use
// the faster of the two as measured, and now and then the other one, to see
// whether the machine has changed: every 8th run after a change, then less
// often (up to every 256th) while the choice holds, and at once when the arm
// in use gets slower than the other was; a change needs three winning probes
// in a row. A probe of one thread that loses to the team by a wide margin
// (kClearLoss) makes the next wait the longest interval: while the team is in
// use, a busy machine shows first as the team slowing past one thread's time,
// which probes at once, and each probe costs a whole slower run (ViT-B/32 on
// two threads: 31 ms a run on the team, 57 on one). Not thread-safe: the
// model calls it under its lock.
class TeamChoice {
 public:
  explicit TeamChoice(int team) : team_(team) {}
  // The team size for the next run: team or 1. The team first, then one
  // thread, until each has a measured run.
  int next();
  // A finished run on `used` threads (team or 1) and how long it took.
  void record(int used, std::chrono::duration<double> took);

  static constexpr int kFirstProbeInterval = 8;
  static constexpr int kConfirmingProbes = 3;
  static constexpr int kLongestProbeInterval = 256;
  // One thread this many times the team's run time or more is a clear loss.
  static constexpr double kClearLoss = 1.25;

 private:
  int team_;
  int arm_ = 0;                 // the arm in use: 0 the team, 1 one thread
  double seconds_[2] = {0, 0};  // running mean per run of each arm; 0 until measured
  int probe_interval_ = kFirstProbeInterval;
  int runs_until_probe_ = kFirstProbeInterval;
  int probe_streak_ = 0;  // probes in a row that won so far
};

}  // namespace pt2onnx::runtime
