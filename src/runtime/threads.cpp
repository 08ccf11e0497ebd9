#include "runtime/threads.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <string>

#include "common/cpu_budget.h"
#include "common/startup_environment.h"
#include "pt2onnx/runtime.h"

namespace pt2onnx::runtime {

std::string wait_policy() {
  const auto& setting = gomp_wait_setting();
  switch (setting.source) {
    case SettingSource::Ours:
      return fmt::format("spin {} rounds, then sleep (pt2onnx's default)", kSpinCount);
    case SettingSource::User:
      return fmt::format("{} (from the environment)", setting.user_text);
    case SettingSource::NotSet:
      break;
  }
  return "libgomp's default: spin 300000 rounds, then sleep (pt2onnx could not set its own)";
}

std::string memory_policy() { return malloc_policy(); }

int default_threads() { return cpu_budget().cores; }

int max_threads() { return std::max(8, 8 * cpu_budget().cpus); }

void set_thread_count(int threads) { omp_set_num_threads(threads); }

int current_thread_count() { return omp_get_max_threads(); }

ScopedThreadCount::ScopedThreadCount(int threads) : previous_(omp_get_max_threads()) { omp_set_num_threads(threads); }

ScopedThreadCount::~ScopedThreadCount() { omp_set_num_threads(previous_); }

namespace {

std::atomic<int> g_cpus_in_use{0};

int process_cpus() {
  static const int kCpus = std::max(1, cpu_budget().cpus);
  return kCpus;
}

}  // namespace

CpuShare::CpuShare(int wanted) : count_(std::max(1, wanted)) {
  int used = g_cpus_in_use.load(std::memory_order_relaxed);
  for (;;) {
    int take = count_;
    if (used > 0) {
      const int free_cpus = std::clamp(process_cpus() - used, 1, count_);
      take = free_cpus == count_ ? count_ : static_cast<int>(std::bit_floor(static_cast<unsigned>(free_cpus)));
    }
    if (g_cpus_in_use.compare_exchange_weak(used, used + take, std::memory_order_relaxed)) {
      count_ = take;
      return;
    }
  }
}

CpuShare::~CpuShare() { g_cpus_in_use.fetch_sub(count_, std::memory_order_relaxed); }

int CpuShare::in_use() { return g_cpus_in_use.load(std::memory_order_relaxed); }

namespace {

// A measured alternative must be this much faster to take over: run times
// scatter by a few percent, a team's gain on an idle machine is 20-30%.
constexpr double kSwitchMargin = 0.95;
// Weight of a new run in the running mean of the arm in use.
constexpr double kMeanWeight = 0.2;

}  // namespace

int TeamChoice::next() {
  if (team_ <= 1) return 1;
  if (seconds_[0] == 0) return team_;
  if (seconds_[1] == 0) return 1;
  if (--runs_until_probe_ <= 0) {
    runs_until_probe_ = probe_interval_;
    return arm_ == 0 ? 1 : team_;
  }
  return arm_ == 0 ? team_ : 1;
}

void TeamChoice::record(int used, std::chrono::duration<double> took) {
  if (team_ <= 1) return;
  const int arm = used == 1 ? 1 : 0;
  const double t = std::max(took.count(), 1e-9);
  if (seconds_[0] == 0 || seconds_[1] == 0) {
    // The first run of each: take the faster, clearly (the team on a tie).
    seconds_[arm] = t;
    if (seconds_[0] != 0 && seconds_[1] != 0) arm_ = seconds_[1] < kSwitchMargin * seconds_[0] ? 1 : 0;
    return;
  }
  if (arm == arm_) {
    seconds_[arm] += kMeanWeight * (t - seconds_[arm]);
    // Slower now than the other arm was when last measured: measure it again.
    if (seconds_[1 - arm_] < kSwitchMargin * seconds_[arm_] && probe_streak_ == 0) runs_until_probe_ = 1;
    return;
  }
  // A probe. The other arm's old mean is stale (the machine may have changed
  // since), so the probes replace it. On a busy machine one run can be lucky:
  // a probe that wins is repeated on the next runs, and the choice changes
  // when kConfirmingProbes in a row win on average. A probe that loses makes
  // the next one wait twice as long.
  seconds_[arm] = probe_streak_ == 0 ? t : (seconds_[arm] * probe_streak_ + t) / (probe_streak_ + 1);
  ++probe_streak_;
  if (seconds_[arm] < kSwitchMargin * seconds_[arm_]) {
    if (probe_streak_ < kConfirmingProbes) {
      runs_until_probe_ = 1;
      return;
    }
    arm_ = arm;
    probe_interval_ = kFirstProbeInterval;
  } else if (arm_ == 0 && seconds_[1] >= kClearLoss * seconds_[0]) {
    probe_interval_ = kLongestProbeInterval;
  } else {
    probe_interval_ = std::min(2 * probe_interval_, kLongestProbeInterval);
  }
  probe_streak_ = 0;
  runs_until_probe_ = probe_interval_;
}

}  // namespace pt2onnx::runtime
