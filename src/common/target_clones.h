// PT2ONNX_TARGET_CLONES compiles a function for the x86-64 levels v4
// (AVX-512), v3 (AVX2 with FMA) and baseline x86-64; the loader picks the best
// the CPU has, so one binary runs everywhere and uses wide vectors where it
// can. For hot loops whose lanes are independent (the build itself targets
// baseline x86-64). The levels rather than plain "avx2": without FMA a
// polynomial (reference/exp.h) is a chain of separate multiplies and adds,
// half as fast on the AVX2 machines that lack AVX-512.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#define PT2ONNX_TARGET_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PT2ONNX_TARGET_CLONES
#endif
