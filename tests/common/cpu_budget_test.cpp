// The CPU budget: cgroup v1 and v2 CPU limits read from a fake hierarchy, and
// the affinity mask of the calling thread.
#include "common/cpu_budget.h"

#include <sched.h>

#include <fstream>

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace pt2onnx {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

TEST(CpuBudget, ParsesCpuMax) {
  EXPECT_EQ(parse_cpu_max("max 100000\n"), std::nullopt);
  EXPECT_DOUBLE_EQ(parse_cpu_max("150000 100000\n").value(), 1.5);
  EXPECT_DOUBLE_EQ(parse_cpu_max("200000 100000").value(), 2.0);
  EXPECT_EQ(parse_cpu_max(""), std::nullopt);
  EXPECT_EQ(parse_cpu_max("garbage"), std::nullopt);
  EXPECT_EQ(parse_cpu_max("0 100000"), std::nullopt);
}

TEST(CpuBudget, CgroupV2TakesTheTightestLimitOfTheGroupAndItsAncestors) {
  testing::TempDir dir;
  const fs::path root = dir.path();
  write(root / "cpu.max", "max 100000\n");
  write(root / "kubepods" / "cpu.max", "max 100000\n");
  write(root / "kubepods" / "pod1" / "cpu.max", "250000 100000\n");
  write(root / "kubepods" / "pod1" / "app" / "cpu.max", "max 100000\n");
  EXPECT_DOUBLE_EQ(cgroup_cpu_limit(root, "0::/kubepods/pod1/app\n").value(), 2.5);
  write(root / "kubepods" / "cpu.max", "120000 100000\n");
  EXPECT_DOUBLE_EQ(cgroup_cpu_limit(root, "0::/kubepods/pod1/app\n").value(), 1.2);
  // Inside a container's cgroup namespace the group is "/": its limit sits at the root.
  write(root / "cpu.max", "50000 100000\n");
  EXPECT_DOUBLE_EQ(cgroup_cpu_limit(root, "0::/\n").value(), 0.5);
}

TEST(CpuBudget, CgroupV1ReadsTheCfsQuotaOfTheCpuController) {
  testing::TempDir dir;
  const fs::path root = dir.path();
  write(root / "cpu,cpuacct" / "docker" / "abc" / "cpu.cfs_quota_us", "300000\n");
  write(root / "cpu,cpuacct" / "docker" / "abc" / "cpu.cfs_period_us", "100000\n");
  write(root / "cpu,cpuacct" / "cpu.cfs_quota_us", "-1\n");
  write(root / "cpu,cpuacct" / "cpu.cfs_period_us", "100000\n");
  const std::string self = "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n";
  EXPECT_DOUBLE_EQ(cgroup_cpu_limit(root, self).value(), 3.0);
  write(root / "cpu,cpuacct" / "docker" / "abc" / "cpu.cfs_quota_us", "-1\n");
  EXPECT_EQ(cgroup_cpu_limit(root, self), std::nullopt);
  // No files at all: no limit.
  EXPECT_EQ(cgroup_cpu_limit(root / "absent", self), std::nullopt);
}

TEST(CpuBudget, FollowsTheAffinityMaskOfTheCallingThread) {
  cpu_set_t saved;
  ASSERT_EQ(::sched_getaffinity(0, sizeof(saved), &saved), 0);
  int first = -1;
  for (int cpu = 0; cpu < CPU_SETSIZE && first < 0; ++cpu) {
    if (CPU_ISSET(cpu, &saved)) first = cpu;
  }
  ASSERT_GE(first, 0);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(::sched_setaffinity(0, sizeof(one), &one), 0);
  const CpuBudget pinned = cpu_budget();
  ASSERT_EQ(::sched_setaffinity(0, sizeof(saved), &saved), 0);
  EXPECT_EQ(pinned.affinity_cpus, 1);
  EXPECT_EQ(pinned.cores, 1);
  EXPECT_EQ(pinned.cpus, 1);
  EXPECT_NE(pinned.why.find("1 core (1 CPU) in the affinity mask"), std::string::npos) << pinned.why;
  const CpuBudget all = cpu_budget();
  EXPECT_EQ(all.affinity_cpus, CPU_COUNT(&saved));
  EXPECT_LE(all.cores, all.cpus);
  EXPECT_GE(all.cores, 1);
}

}  // namespace
}  // namespace pt2onnx
