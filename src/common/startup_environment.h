// Settings that libraries read from the environment once, as they load, and
// that pt2onnx therefore chooses before any of them has loaded.
//
// - libgomp (oneDNN's threading here) reads OMP_WAIT_POLICY and
//   GOMP_SPINCOUNT: pt2onnx bounds the spinning of idle OpenMP threads
//   (runtime/threads.h says why).
// - glibc's malloc reads GLIBC_TUNABLES: pt2onnx asks for transparent huge
//   pages and for freed memory to be kept for reuse. A verifying export or a
//   run allocates and frees hundreds of activation tensors of megabytes each;
//   with glibc's defaults each one is fresh memory, mapped and zeroed by the
//   kernel page by page, which took a third of an export's time on a
//   virtualised 2-core machine (docs/runtime.md, "Memory").
//
// A function in the executable's .preinit_array (startup_environment.cpp) runs
// after the dynamic loader has mapped the libraries and before any of their
// initialisers. When something is missing it starts the program again
// (execve of /proc/self/exe) with it added, once; a later constructor removes
// what pt2onnx added, so child processes get the user's environment. A value
// the user set is left as it is. Every program that links the engine gets this
// (the CLI, the tests, a server); a failed exec (no /proc) keeps the defaults.
#pragma once

#include <string>

namespace pt2onnx {

// Spin rounds before an idle OpenMP thread sleeps: about 40 us on the AMD EPYC
// the figures in docs/runtime.md come from (20 ns a round), longer than the
// gaps between the primitives of one inference, far shorter than a time slice.
inline constexpr long kSpinCount = 2000;

// glibc malloc settings: transparent huge pages where the kernel offers them
// on request (madvise), blocks below 256 MiB taken from the heap and reused
// rather than mapped afresh, and up to 512 MiB of free memory kept at a heap's
// top instead of being returned at once.
inline constexpr char kMallocTunables[] =
    "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=536870912";
// The same without huge pages, for a process whose command line names a file
// of more than kLargeFileBytes (a large model): its weights are touched two or
// three times while loading, and zeroing and backing that many huge pages
// took from 0.5 to 9 s on a virtual machine, against about 1 s with 4 KiB pages.
inline constexpr char kMallocTunablesLarge[] =
    "glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=536870912";
inline constexpr long long kLargeFileBytes = 128LL << 20;

// Who chose a setting.
enum class SettingSource { NotSet, Ours, User };

struct StartupSetting {
  SettingSource source = SettingSource::NotSet;
  std::string user_text;  // "NAME=value, ..." as the user gave it, for SettingSource::User
};

// libgomp's wait policy (OMP_WAIT_POLICY, GOMP_SPINCOUNT).
const StartupSetting& gomp_wait_setting();
// glibc malloc's tunables (GLIBC_TUNABLES).
const StartupSetting& malloc_setting();

// For people: "transparent huge pages, freed memory kept for reuse (pt2onnx's default)", ...
std::string malloc_policy();

}  // namespace pt2onnx
