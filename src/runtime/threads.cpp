#include "runtime/threads.h"

#include <omp.h>

#include "common/cpu_budget.h"

namespace pt2onnx::runtime {

int default_threads() { return cpu_budget().cores; }

void set_thread_count(int threads) { omp_set_num_threads(threads); }

ScopedThreadCount::ScopedThreadCount(int threads) : previous_(omp_get_max_threads()) { omp_set_num_threads(threads); }

ScopedThreadCount::~ScopedThreadCount() { omp_set_num_threads(previous_); }

}  // namespace pt2onnx::runtime
