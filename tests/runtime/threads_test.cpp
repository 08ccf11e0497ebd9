// Options::threads: honoured exactly (OpenMP team size of the calling
// thread), defaulting to the physical cores within the CPU budget; results
// agree across counts. The CPUs concurrent runs share (CpuShare), the choice
// between a team and one thread (TeamChoice), the wait policy set before
// main, and many threads running one model at once.
#include <omp.h>

#include <bit>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <unistd.h>

#include "common/cpu_budget.h"
#include "pt2onnx/error.h"
#include "runtime/efficientnet_like.h"
#include "runtime/test_model.h"
#include "runtime/threads.h"

namespace pt2onnx::testing {
namespace {

ModelBuilder conv_model() {
  ModelBuilder mb;
  mb.input("x", {-1, 8, 16, 16}).output("y");
  mb.initializer("w", {16, 8, 3, 3}, random_values(16 * 8 * 9, 1));
  set_ints(mb.node("Conv", {"x", "w"}, {"c"}), "pads", {1, 1, 1, 1});
  mb.node("Relu", {"c"}, {"y"});
  return mb;
}

TEST(RuntimeThreads, OptionIsHonouredAndDefaultsToTheCpuBudget) {
  const auto path = conv_model().save("threads.onnx");
  const auto x = random_tensor({2, 8, 16, 16}, 2);
  runtime::Options one;
  one.threads = 1;
  auto single = runtime::Model::load(path, one);
  EXPECT_EQ(single.threads(), 1);
  const auto a = values_of(single.run({x})[0]);
  EXPECT_EQ(omp_get_max_threads(), 1);

  runtime::Options three;
  three.threads = 3;
  auto multi = runtime::Model::load(path, three);
  EXPECT_EQ(multi.threads(), 3);
  const auto b = values_of(multi.run({x})[0]);
  EXPECT_EQ(omp_get_max_threads(), 3);
  EXPECT_TRUE(all_close(b, a, 1e-6, 1e-6));

  auto automatic = runtime::Model::load(path);
  EXPECT_EQ(automatic.threads(), runtime::default_threads());
  EXPECT_GE(automatic.threads(), 1);

  runtime::Options too_many;
  too_many.threads = runtime::max_threads() + 1;
  EXPECT_GE(runtime::max_threads(), 8 * cpu_budget().cpus);
  try {
    runtime::Model::load(path, too_many);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    EXPECT_NE(std::string(e.what()).find("more than the"), std::string::npos) << e.what();
  }

  runtime::Options negative;
  negative.threads = -2;
  try {
    runtime::Model::load(path, negative);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
  }
}

using runtime::CpuShare;
using runtime::TeamChoice;
using std::chrono::duration;

TEST(RuntimeThreads, ARunAloneGetsAllItAsksForAndConcurrentRunsShareWhatIsLeft) {
  ASSERT_EQ(CpuShare::in_use(), 0);
  const int cpus = cpu_budget().cpus;
  {
    const CpuShare alone(cpus + 3);  // alone: even more than the CPUs (the user asked)
    EXPECT_EQ(alone.count(), cpus + 3);
    const CpuShare second(4);  // nothing left: the calling thread itself
    EXPECT_EQ(second.count(), 1);
    EXPECT_EQ(CpuShare::in_use(), cpus + 4);
  }
  EXPECT_EQ(CpuShare::in_use(), 0);
  if (cpus >= 4) {
    const CpuShare first(1);
    const CpuShare second(cpus);  // cpus - 1 free: the largest power of two below
    EXPECT_EQ(second.count(), static_cast<int>(std::bit_floor(static_cast<unsigned>(cpus - 1))));
  }
  {
    const CpuShare zero(0);  // at least one
    EXPECT_EQ(zero.count(), 1);
  }
  EXPECT_EQ(CpuShare::in_use(), 0);
}

// Feeds a TeamChoice runs that take team_ms on the team and single_ms on one
// thread; returns how many of `runs` used the team.
int team_runs_of(TeamChoice& choice, int runs, double team_ms, double single_ms, int team = 2) {
  int on_team = 0;
  for (int r = 0; r < runs; ++r) {
    const int used = choice.next();
    EXPECT_TRUE(used == team || used == 1) << used;
    on_team += used == team ? 1 : 0;
    choice.record(used, duration<double, std::milli>(used == team ? team_ms : single_ms));
  }
  return on_team;
}

TEST(RuntimeThreads, TeamChoiceKeepsTheTeamOnAnIdleMachineAndProbesLessAndLess) {
  TeamChoice choice(2);
  EXPECT_EQ(choice.next(), 2);  // the team is measured first, then one thread
  choice.record(2, duration<double, std::milli>(6.3));
  EXPECT_EQ(choice.next(), 1);
  choice.record(1, duration<double, std::milli>(7.0));  // one thread only 11% slower
  // Probes of one thread at runs 8, 16, 32, 64, 128, 256, then every 256th.
  const int runs = 2000;
  const int on_team = team_runs_of(choice, runs, 6.3, 7.0);
  const int probes = runs - on_team;
  EXPECT_GE(probes, 6);
  EXPECT_LE(probes, 6 + (runs - 512) / TeamChoice::kLongestProbeInterval + 1);
}

TEST(RuntimeThreads, TeamChoiceProbesRarelyWhereOneThreadClearlyLoses) {
  TeamChoice choice(2);
  // One thread 29% slower than the team: after the probe at run 8, every 256th.
  const int runs = 2000;
  const int probes = runs - team_runs_of(choice, runs, 6.3, 8.1);
  EXPECT_EQ(probes, 1 + 1 + (runs - 2 - 8) / TeamChoice::kLongestProbeInterval);
  // The machine gets busy: the team slows past one thread's time, and one
  // thread is probed at once and takes over.
  EXPECT_LE(team_runs_of(choice, 40, 25.0, 12.0), 6);
  EXPECT_EQ(team_runs_of(choice, 20, 25.0, 12.0), 0);
}

TEST(RuntimeThreads, TeamChoiceMovesToOneThreadWhenTheTeamWaitsAndBackWhenTheMachineIsIdle) {
  TeamChoice choice(2);
  EXPECT_EQ(team_runs_of(choice, 100, 6.3, 8.1), 100 - 2);  // idle: one thread on its first run and at run 8
  // Other processes take the cores: the team now needs 25 ms, one thread 12.
  const int busy_team = team_runs_of(choice, 200, 25.0, 12.0);
  EXPECT_LE(busy_team, 12);  // a few runs to notice, then probes now and then
  EXPECT_EQ(team_runs_of(choice, 40, 25.0, 12.0), 0);
  // The machine is idle again: the team is probed, wins three times in a row,
  // and takes over within the longest probe interval.
  const int back = team_runs_of(choice, TeamChoice::kLongestProbeInterval + 50, 6.3, 8.1);
  EXPECT_GE(back, 40);
  EXPECT_EQ(team_runs_of(choice, 6, 6.3, 8.1), 6);
}

TEST(RuntimeThreads, TeamChoiceIsNotSwayedByOneLuckyProbe) {
  TeamChoice choice(4);
  team_runs_of(choice, 2, 20.0, 10.0, 4);  // one measured run each: one thread wins
  for (int r = 0; r < 300; ++r) {
    const int used = choice.next();
    // Every team probe is lucky once (5 ms), then slow again (30 ms): two
    // probes in a row average 17.5 ms, over one thread's 10.
    static int probes = 0;
    double ms = 10.0;
    if (used == 4) ms = (probes++ % 2 == 0) ? 5.0 : 30.0;
    choice.record(used, duration<double, std::milli>(ms));
    ASSERT_TRUE(used == 1 || used == 4);
  }
  int on_team = 0;
  for (int r = 0; r < 50; ++r) on_team += choice.next() == 4 ? 1 : 0;
  EXPECT_LE(on_team, 2);
}

TEST(RuntimeThreads, ATeamOfOneIsNeverProbed) {
  TeamChoice choice(1);
  EXPECT_EQ(team_runs_of(choice, 50, 1.0, 1.0, 1), 50);  // 1 is both "team" and one thread
}

// The engine's loops: every index once, one contiguous run per thread of the
// team, and a team of one runs on the calling thread with no parallel region.
// clang with libgomp (the sanitizer build) compiles OpenMP pragmas away and
// leaves _OPENMP undefined: there every team is the calling thread.
TEST(RuntimeThreads, ParallelForCoversEveryIndexOnceInOneRunPerThread) {
#ifdef _OPENMP
  constexpr bool kPragmasRun = true;
#else
  constexpr bool kPragmasRun = false;
#endif
  for (int threads : {1, 2, 3}) {
    const int expected_team = kPragmasRun ? threads : 1;
    for (std::int64_t count : {0, 1, 2, 7, 100}) {
      std::vector<int> seen(static_cast<std::size_t>(count), 0), owner(static_cast<std::size_t>(count), -1),
          level(static_cast<std::size_t>(count), -1);
      {
        runtime::ScopedThreadCount team(threads);
        runtime::parallel_for(count, [&](std::int64_t i) {
          const auto k = static_cast<std::size_t>(i);
          ++seen[k];
          owner[k] = omp_get_thread_num();
          level[k] = omp_get_level();
        });
      }
      for (std::size_t i = 0; i < seen.size(); ++i) {
        ASSERT_EQ(seen[i], 1) << "index " << i << " of " << count << ", " << threads << " threads";
        if (i > 0) {
          ASSERT_GE(owner[i], owner[i - 1]) << "runs are not contiguous, " << threads << " threads";
        }
        ASSERT_EQ(level[i], expected_team == 1 ? 0 : 1) << threads << " threads";
      }
      if (count >= expected_team && expected_team > 1) {
        EXPECT_EQ(owner.back(), expected_team - 1) << count << " items";
      }
    }
  }
}

TEST(RuntimeThreads, TheWaitPolicyWasSetBeforeMainAndLeftNoTraceInTheEnvironment) {
  const auto policy = runtime::wait_policy();
  if (policy.find("from the environment") != std::string::npos) {
    GTEST_SKIP() << "the user set the wait policy: " << policy;
  }
  EXPECT_EQ(policy, "spin 2000 rounds, then sleep (pt2onnx's default)");
  // libgomp has read GOMP_SPINCOUNT (tests/oracle/test_runtime_threads.py
  // checks what it read); children of this process do not inherit it.
  EXPECT_EQ(std::getenv("GOMP_SPINCOUNT"), nullptr);
  for (char** e = environ; *e != nullptr; ++e) EXPECT_NE(std::strncmp(*e, "PT2ONNX_ADDED_", 14), 0) << *e;
}

TEST(RuntimeThreads, TheMemoryPolicyWasSetBeforeMainAndLeftNoTraceInTheEnvironment) {
  const auto policy = runtime::memory_policy();
  if (policy.find("from the environment") != std::string::npos) {
    GTEST_SKIP() << "the user set GLIBC_TUNABLES: " << policy;
  }
  EXPECT_EQ(policy, "transparent huge pages, freed memory kept for reuse (pt2onnx's default)");
  // The loader has read GLIBC_TUNABLES (tests/oracle/test_runtime_threads.py
  // sees its effect on page faults); children of this process do not inherit it.
  EXPECT_EQ(std::getenv("GLIBC_TUNABLES"), nullptr);
}

// A server's request threads share one model: every result equals the serial
// one, bit for bit, whichever team size each run got, and the CPUs come back.
TEST(RuntimeThreads, ManyThreadsRunningOneModelGetTheSerialResults) {
  runtime::Options two;
  two.threads = 2;
  auto model = runtime::Model::load(efficientnet_like_model().save("threads_concurrent.onnx"), two);
  std::vector<Tensor> inputs;
  std::vector<Tensor> want;
  for (std::uint32_t i = 0; i < 4; ++i) {
    inputs.push_back(random_tensor({i == 3 ? 3 : 1, 3, 224, 224}, 700 + i));  // batch 3: split into rows
    want.push_back(model.run({inputs.back()})[0]);
  }
  constexpr int kCallers = 4;
  constexpr int kRuns = 24;
  std::vector<std::string> errors(kCallers);
  std::vector<int> mismatches(kCallers, 0);
  {
    std::vector<std::jthread> callers;
    for (int c = 0; c < kCallers; ++c) {
      callers.emplace_back([&, c] {
        try {
          for (int r = 0; r < kRuns; ++r) {
            const auto i = static_cast<std::size_t>((c + r) % 4);
            const auto got = model.run({inputs[i]})[0];
            if (!all_close(values_of(got), values_of(want[i]), 0.0, 0.0)) ++mismatches[static_cast<std::size_t>(c)];
          }
        } catch (const std::exception& e) {
          errors[static_cast<std::size_t>(c)] = e.what();
        }
      });
    }
  }
  for (std::size_t c = 0; c < kCallers; ++c) {
    EXPECT_EQ(errors[c], "") << "caller " << c;
    EXPECT_EQ(mismatches[c], 0) << "caller " << c;
  }
  EXPECT_EQ(CpuShare::in_use(), 0);
  const auto runs = model.team_runs();
  // Batch-1 runs (3 of every 4) count; with four callers on two threads'
  // worth of CPUs most ran alone on their calling thread.
  EXPECT_EQ(runs.team + runs.one_thread, 3u + 3u * kCallers * kRuns / 4u);
}

}  // namespace
}  // namespace pt2onnx::testing
