// The pt2onnx inference engine: load an ONNX model, ask its inputs and outputs,
// run it on float32 tensors. Built on oneDNN; no Python, no ONNX Runtime.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "pt2onnx/tensor.h"

namespace pt2onnx::runtime {

struct TensorInfo {
  std::string name;
  Shape shape;                          // -1 where the dimension is symbolic
  std::vector<std::string> dim_params;  // the symbolic names ("batch"), "" for fixed dims
};

struct Options {
  int threads = 0;                           // 0: runtime's default (physical cores, CPU limit)
  bool optimize = true;                      // run the graph pass pipeline
  std::vector<std::string> disabled_passes;  // by name, for debugging (Error(Usage) if unknown)
  // Run a batch as one image per thread (each thread a one-thread stream)
  // when the graph computes the images independently; faster than one wide
  // batch on all threads on CPUs like ours (docs/runtime.md, "Performance").
  // Not for a graph whose fully connected layers stream weights of many MB per
  // image (AlexNet, VGG): there one wide batch reads them once.
  bool split_batch = true;
  // Back the reordered weights and the activation arenas with transparent
  // huge pages (fewer TLB misses: 4% off EfficientNet-B0's batch-1 latency
  // here). A short-lived run gains little and may wait for the kernel to
  // compact memory for them: verification turns it off.
  bool huge_pages = true;
  // A run that would use a team of threads() threads measures, per input
  // shape, whether the team or the calling thread alone is faster, and uses
  // the faster (the team on an idle machine; one thread when other processes
  // hold the cores and the team would wait for them at every layer). Off: the
  // team always, for measuring it.
  bool adaptive_team = true;
};

// The most threads a run may be given (Options::threads): 8 for each CPU this
// process may use (affinity mask, cgroup CPU limit), at least 8. More would
// only make the threads wait for each other, and very many fail to start.
int max_threads();

// How the engine's waiting threads behave (set before main, see
// docs/runtime.md "Threads"): "spin 2000 rounds, then sleep (pt2onnx's
// default)", or the user's OMP_WAIT_POLICY / GOMP_SPINCOUNT.
std::string wait_policy();

// How memory is allocated (set before main, see docs/runtime.md "Memory"):
// "transparent huge pages, freed memory kept for reuse (pt2onnx's default)",
// or the user's GLIBC_TUNABLES.
std::string memory_policy();

class Model {
 public:
  // Throws Error (BadInput for a malformed file, Unsupported for an operator or
  // dtype the engine does not run), with the file and node named.
  static Model load(const std::filesystem::path& path, const Options& options = {});

  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  [[nodiscard]] const std::vector<TensorInfo>& inputs() const;
  [[nodiscard]] const std::vector<TensorInfo>& outputs() const;

  // One tensor per graph input, in inputs() order; returns one per output.
  // Input names, ranks, fixed dims and dtypes are checked (Error naming the input).
  // Thread-safe: concurrent calls (streams) share the weights and compiled
  // plans, each run with its own activation memory. A run uses threads()
  // threads, fewer when concurrent runs of any model in the process already
  // hold the CPUs (at least the calling thread), or one when that is faster
  // (Options::adaptive_team).
  std::vector<Tensor> run(const std::vector<Tensor>& inputs);
  // The same with inputs by name; every input must be given once. (Not an
  // overload of run: {a, b} would be ambiguous.)
  std::vector<Tensor> run_named(const std::map<std::string, Tensor>& inputs);
  // run() on the calling thread alone, whatever threads() is: for callers
  // that keep their own concurrent streams, one per core (pt2onnx infer's
  // workers). Thread-safe like run().
  std::vector<Tensor> run_on_calling_thread(std::span<const Tensor> inputs);

  // Whether every output row depends on its own input row only and
  // Options::split_batch lets run() compute a batch as one image per thread
  // (which it does when threads() > 1). Such a model gives the same rows
  // when its images are run one at a time.
  [[nodiscard]] bool splits_batch() const;

  // The thread count the engine runs with.
  [[nodiscard]] int threads() const;

  // Runs since load that could use a team (threads() > 1, one input row per
  // run or no batch split): how many used the team and how many the calling
  // thread alone, because that was measured faster (Options::adaptive_team)
  // or because concurrent runs held the other CPUs.
  struct TeamRuns {
    std::uint64_t team = 0;
    std::uint64_t one_thread = 0;
  };
  [[nodiscard]] TeamRuns team_runs() const;

  struct Impl;

 private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pt2onnx::runtime
