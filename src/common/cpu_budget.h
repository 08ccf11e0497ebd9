// How many CPUs this process may really use: the CPUs of its affinity mask
// (taskset, a SLURM or container cpuset), capped by the cgroup CPU quota (a
// Kubernetes or Docker CPU limit), not the machine's core count. A container
// limited to 2 CPUs on a 64-core host gets 2 threads, not 64.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace pt2onnx {

struct CpuBudget {
  int affinity_cpus = 1;             // logical CPUs in the calling thread's affinity mask
  int affinity_cores = 1;            // physical cores among them (hyper-threads counted once)
  std::optional<double> quota_cpus;  // the tightest cgroup CPU limit, in CPUs; none when unlimited
  // The quota rounded up caps both: threads for the engine (one a core) and
  // for work that takes every logical CPU.
  int cores = 1;
  int cpus = 1;
  std::string why;  // "2 cores (2 CPUs) in the affinity mask, no cgroup CPU limit"
};

// For the calling thread (affinity masks are per thread), reading the cgroup
// files of /proc/self/cgroup under /sys/fs/cgroup.
CpuBudget cpu_budget();

// The tightest CPU limit of the cgroups listed in `proc_self_cgroup` (the text
// of /proc/self/cgroup) and their ancestors, read under `root`: cgroup v2's
// cpu.max ("QUOTA PERIOD" or "max PERIOD") and v1's cpu.cfs_quota_us and
// cpu.cfs_period_us (quota -1: none). nullopt when no limit is set or readable.
std::optional<double> cgroup_cpu_limit(const std::filesystem::path& root, std::string_view proc_self_cgroup);

// "limit 1.5 CPUs" text of one cpu.max file; exposed for tests.
std::optional<double> parse_cpu_max(std::string_view text);

}  // namespace pt2onnx
