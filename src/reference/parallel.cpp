#include "reference/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "common/cpu_budget.h"

namespace pt2onnx::reference {

namespace {
thread_local bool g_serial = false;
}  // namespace

std::int64_t worker_count() {
  // The CPUs this process may use (affinity mask, cgroup CPU limit), asked
  // once: reading them takes a few system calls and files.
  static const auto kCpus = static_cast<std::int64_t>(cpu_budget().cpus);
  return kCpus;
}

SerialScope::SerialScope() : was_serial_(g_serial) { g_serial = true; }
SerialScope::~SerialScope() { g_serial = was_serial_; }

void parallel_for(std::int64_t count, const std::function<void(std::int64_t, std::int64_t)>& fn,
                  std::int64_t min_parallel) {
  if (count <= 0) return;
  const std::int64_t threads = std::min(worker_count(), count);
  if (g_serial || threads <= 1 || count < min_parallel) {
    fn(0, count);
    return;
  }
  // Several chunks per thread so that uneven items (border rows, groups) even out.
  const std::int64_t chunk = std::max<std::int64_t>(1, count / (threads * 8));
  std::atomic<std::int64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&] {
    try {
      while (true) {
        const std::int64_t begin = next.fetch_add(chunk);
        if (begin >= count) break;
        fn(begin, std::min(count, begin + chunk));
      }
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (!error) error = std::current_exception();
      next.store(count);
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(threads - 1));
  for (std::int64_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace pt2onnx::reference
