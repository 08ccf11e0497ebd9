#include "runtime/threads.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <unistd.h>

#include "common/cpu_budget.h"
#include "pt2onnx/runtime.h"

namespace pt2onnx::runtime {

namespace {

// The re-executed process carries this beside GOMP_SPINCOUNT, so that it
// knows the value is pt2onnx's and not the user's.
constexpr char kMarkerName[] = "PT2ONNX_GOMP_SPINCOUNT";
constexpr char kSpinEntry[] = "GOMP_SPINCOUNT=2000";
constexpr char kMarkerEntry[] = "PT2ONNX_GOMP_SPINCOUNT=1";
static_assert(kSpinCount == 2000, "kSpinEntry spells kSpinCount");

bool starts_with(const char* text, const char* prefix) {
  while (*prefix != '\0') {
    if (*text++ != *prefix++) return false;
  }
  return true;
}

// Runs from the executable's .preinit_array: after the dynamic loader has
// mapped and relocated the libraries (about 2 ms), before any of them has run
// its initialiser, libgomp's included. The C library is not initialised yet
// (no environ, no malloc), so this uses its arguments and static memory only.
// When the user has set neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT, the
// program starts again with GOMP_SPINCOUNT added; a failed exec (no /proc)
// leaves libgomp's default.
void choose_wait_policy(int /*argc*/, char** argv, char** envp) {
  constexpr std::size_t kMaxEntries = 4096;
  static char* entries[kMaxEntries + 3];
  std::size_t n = 0;
  for (char** e = envp; e != nullptr && *e != nullptr; ++e, ++n) {
    if (starts_with(*e, "OMP_WAIT_POLICY=") || starts_with(*e, "GOMP_SPINCOUNT=")) return;
    if (n == kMaxEntries) return;
    entries[n] = *e;
  }
  entries[n++] = const_cast<char*>(kSpinEntry);
  entries[n++] = const_cast<char*>(kMarkerEntry);
  entries[n] = nullptr;
  execve("/proc/self/exe", argv, entries);
}

enum class Source { NotSet, Ours, User };
// Plain static storage: a constructor attribute runs in no set order with
// this file's C++ initialisers.
Source g_source = Source::NotSet;
char g_user_text[192] = {};

// Executable constructors run after every shared library's, so libgomp has
// read the variables by now. pt2onnx's own are removed again: child processes
// get the environment the user gave.
__attribute__((constructor)) void note_wait_policy() {
  if (std::getenv(kMarkerName) != nullptr) {
    g_source = Source::Ours;
    unsetenv(kMarkerName);
    unsetenv("GOMP_SPINCOUNT");
    return;
  }
  std::size_t used = 0;
  for (const char* name : {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"}) {
    if (const char* value = std::getenv(name); value != nullptr && used < sizeof g_user_text) {
      g_source = Source::User;
      const int n =
          std::snprintf(g_user_text + used, sizeof g_user_text - used, "%s%s=%s", used == 0 ? "" : ", ", name, value);
      if (n > 0) used += static_cast<std::size_t>(n);
    }
  }
}

}  // namespace

// In the executable only (a shared library may not have one). This object is
// linked whenever the engine is: every run sets its thread count here.
__attribute__((used, section(".preinit_array"))) void (*const kChooseWaitPolicy)(int, char**,
                                                                                 char**) = &choose_wait_policy;

std::string wait_policy() {
  switch (g_source) {
    case Source::Ours:
      return fmt::format("spin {} rounds, then sleep (pt2onnx's default)", kSpinCount);
    case Source::User:
      return fmt::format("{} (from the environment)", g_user_text);
    case Source::NotSet:
      break;
  }
  return "libgomp's default: spin 300000 rounds, then sleep (pt2onnx could not set its own)";
}

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
  } else {
    probe_interval_ = std::min(2 * probe_interval_, kLongestProbeInterval);
  }
  probe_streak_ = 0;
  runs_until_probe_ = probe_interval_;
}

}  // namespace pt2onnx::runtime
