#include "runtime/threads.h"

#include <sched.h>

#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include <omp.h>

namespace pt2onnx::runtime {
namespace {

int read_int(const std::string& path) {
  std::ifstream in(path);
  int v = -1;
  in >> v;
  return in ? v : -1;
}

}  // namespace

int physical_cores() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  const int logical = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (sched_getaffinity(0, sizeof(mask), &mask) != 0) return logical;
  std::set<std::pair<int, int>> cores;
  int allowed = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &mask)) continue;
    ++allowed;
    const auto base = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    const int core = read_int(base + "core_id");
    const int package = read_int(base + "physical_package_id");
    if (core < 0 || package < 0) return allowed > 0 ? CPU_COUNT(&mask) : logical;
    cores.emplace(package, core);
  }
  return cores.empty() ? logical : static_cast<int>(cores.size());
}

void set_thread_count(int threads) { omp_set_num_threads(threads); }

}  // namespace pt2onnx::runtime
