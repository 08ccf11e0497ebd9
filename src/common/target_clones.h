// PT2ONNX_TARGET_CLONES compiles a function for AVX-512, AVX2 and baseline
// x86-64; the loader picks the best the CPU has, so one binary runs everywhere
// and uses wide vectors where it can. For hot loops whose lanes are
// independent (the build itself targets baseline x86-64).
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#define PT2ONNX_TARGET_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PT2ONNX_TARGET_CLONES
#endif
