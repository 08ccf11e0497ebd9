// How the reference uses the machine: independent work items split across
// threads (its only concurrency), and hot loops compiled for several
// instruction sets.
#pragma once

#include <cstdint>
#include <functional>

namespace pt2onnx::reference {

// Calls fn(begin, end) on disjoint ranges covering [0, count), on up to
// std::thread::hardware_concurrency() threads; rethrows the first exception.
// Small jobs (count below min_parallel) run on the calling thread.
void parallel_for(std::int64_t count, const std::function<void(std::int64_t, std::int64_t)>& fn,
                  std::int64_t min_parallel = 2);

}  // namespace pt2onnx::reference

// Compiles a function for AVX-512, AVX2 and baseline x86-64; the loader picks
// the best the CPU has, so one binary runs everywhere and is fast where it can
// be. Only loops whose lanes are independent (output positions) are vectorised.
#if defined(__x86_64__) && defined(__GNUC__)
#define PT2ONNX_REFERENCE_KERNEL __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PT2ONNX_REFERENCE_KERNEL
#endif
