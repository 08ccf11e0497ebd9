#include "common/cpu_budget.h"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace pt2onnx {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> read_text(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<long long> parse_integer(std::string_view text) {
  std::istringstream in{std::string(text)};
  long long v = 0;
  if (!(in >> v)) return std::nullopt;
  return v;
}

std::optional<double> ratio(long long quota, long long period) {
  if (quota <= 0 || period <= 0) return std::nullopt;
  return static_cast<double>(quota) / static_cast<double>(period);
}

void keep_tighter(std::optional<double>& limit, std::optional<double> candidate) {
  if (candidate && (!limit || *candidate < *limit)) limit = candidate;
}

std::optional<long long> read_integer(const fs::path& path) {
  const auto text = read_text(path);
  return text ? parse_integer(*text) : std::nullopt;
}

// The v1 limit of one cgroup directory.
std::optional<double> v1_limit(const fs::path& dir) {
  const auto quota = read_integer(dir / "cpu.cfs_quota_us");
  const auto period = read_integer(dir / "cpu.cfs_period_us");
  if (!quota || !period) return std::nullopt;
  return ratio(*quota, *period);
}

// `dir` and each of its ancestors up to `top`, which limits every cgroup below it.
std::vector<fs::path> up_to(const fs::path& top, const std::string& relative) {
  std::vector<fs::path> dirs;
  fs::path rel = fs::path(relative).relative_path();
  while (true) {
    dirs.push_back(top / rel);
    if (rel.empty()) break;
    rel = rel.parent_path();
  }
  return dirs;
}

// Logical CPUs and physical cores of the calling thread's affinity mask; the
// machine's logical count when the mask is not readable, the CPU count when
// the topology is not.
std::pair<int, int> affinity_cpus_and_cores() {
  const int logical = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (::sched_getaffinity(0, sizeof(mask), &mask) != 0 || CPU_COUNT(&mask) == 0) return {logical, logical};
  const int cpus = CPU_COUNT(&mask);
  std::set<std::pair<long long, long long>> cores;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &mask)) continue;
    const fs::path base = fmt::format("/sys/devices/system/cpu/cpu{}/topology", cpu);
    const auto core = read_integer(base / "core_id");
    const auto package = read_integer(base / "physical_package_id");
    if (!core || !package) return {cpus, cpus};
    cores.emplace(*package, *core);
  }
  return {cpus, cores.empty() ? cpus : static_cast<int>(cores.size())};
}

}  // namespace

std::optional<double> parse_cpu_max(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string quota;
  long long period = 0;
  if (!(in >> quota >> period) || quota == "max") return std::nullopt;
  const auto q = parse_integer(quota);
  if (!q) return std::nullopt;
  return ratio(*q, period);
}

std::optional<double> cgroup_cpu_limit(const fs::path& root, std::string_view proc_self_cgroup) {
  std::optional<double> limit;
  std::istringstream lines{std::string(proc_self_cgroup)};
  std::string line;
  while (std::getline(lines, line)) {
    // "ID:CONTROLLERS:PATH"; v2's single line has ID 0 and no controllers.
    const auto first = line.find(':');
    const auto second = first == std::string::npos ? std::string::npos : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (controllers.empty()) {
      for (const auto& dir : up_to(root, path)) {
        if (const auto text = read_text(dir / "cpu.max")) keep_tighter(limit, parse_cpu_max(*text));
      }
      continue;
    }
    std::istringstream names{controllers};
    std::string name;
    bool has_cpu = false;
    while (std::getline(names, name, ',')) has_cpu = has_cpu || name == "cpu";
    if (!has_cpu) continue;
    // The v1 hierarchy is mounted as cpu, cpu,cpuacct or cpuacct,cpu.
    for (const auto* mount : {"cpu", "cpu,cpuacct", "cpuacct,cpu"}) {
      for (const auto& dir : up_to(root / mount, path)) keep_tighter(limit, v1_limit(dir));
    }
  }
  return limit;
}

CpuBudget cpu_budget() {
  CpuBudget budget;
  std::tie(budget.affinity_cpus, budget.affinity_cores) = affinity_cpus_and_cores();
  if (const auto self = read_text("/proc/self/cgroup")) {
    budget.quota_cpus = cgroup_cpu_limit("/sys/fs/cgroup", *self);
  }
  budget.cores = budget.affinity_cores;
  budget.cpus = budget.affinity_cpus;
  budget.why =
      fmt::format("{} core{} ({} CPU{}) in the affinity mask", budget.affinity_cores,
                  budget.affinity_cores == 1 ? "" : "s", budget.affinity_cpus, budget.affinity_cpus == 1 ? "" : "s");
  if (budget.quota_cpus) {
    // A limit of 1.5 CPUs still lets two threads run, each part of the time.
    const int by_quota = std::max(1, static_cast<int>(std::ceil(*budget.quota_cpus - 1e-9)));
    budget.cores = std::min(budget.cores, by_quota);
    budget.cpus = std::min(budget.cpus, by_quota);
    budget.why += fmt::format(", cgroup CPU limit {:g}", *budget.quota_cpus);
  } else {
    budget.why += ", no cgroup CPU limit";
  }
  return budget;
}

}  // namespace pt2onnx
