// Splits independent work items across threads; the reference's only
// concurrency. (Its hot loops are compiled for several instruction sets:
// common/target_clones.h.)
#pragma once

#include <cstdint>
#include <functional>

#include "common/target_clones.h"

namespace pt2onnx::reference {

// Calls fn(begin, end) on disjoint ranges covering [0, count), on up to
// worker_count() threads; rethrows the first exception.
// Small jobs (count below min_parallel) run on the calling thread.
void parallel_for(std::int64_t count, const std::function<void(std::int64_t, std::int64_t)>& fn,
                  std::int64_t min_parallel = 2);

// The number of threads parallel_for uses: the CPUs this process may use
// (common/cpu_budget.h).
std::int64_t worker_count();

// While one exists, parallel_for on this thread runs everything on it: for
// work that is already split across threads at a coarser grain.
class SerialScope {
 public:
  SerialScope();
  ~SerialScope();
  SerialScope(const SerialScope&) = delete;
  SerialScope& operator=(const SerialScope&) = delete;

 private:
  bool was_serial_;
};

}  // namespace pt2onnx::reference
