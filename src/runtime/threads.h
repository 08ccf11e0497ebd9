// Thread count of the engine: oneDNN here is built on OpenMP, whose team
// size is set per calling thread.
#pragma once

namespace pt2onnx::runtime {

// The engine's default thread count: one per physical core the calling
// thread may run on, capped by the cgroup CPU limit (common/cpu_budget.h).
int default_threads();

// Sets the OpenMP team size for parallel regions started by this thread.
void set_thread_count(int threads);

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

}  // namespace pt2onnx::runtime
