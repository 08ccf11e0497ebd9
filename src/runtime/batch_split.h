// Throughput mode inside one run: a batch whose images the graph computes
// independently (no operator mixes rows of the batch) can run as one image
// per thread, each thread with its own arena and a one-thread plan for
// batch 1. On a CPU whose caches hold one image's activations this beats one
// wide batch on all threads: no barriers between layers, activations stay in
// each core's L2 (see docs/runtime.md, "Performance").
#pragma once

#include <optional>

#include "runtime/graph.h"

namespace pt2onnx::runtime {

// The batch symbol when every graph input and every float32 value the graph
// computes is led by the same symbolic dim and each operator works row by
// row (Softmax and Concat not over axis 0, Gemm and MatMul with constant
// right-hand sides, Gemm without transA); nullopt otherwise (then a batch
// runs as one wide batch).
std::optional<int> independent_batch_symbol(const Graph& g);

// Whether running a batch as one image per thread is worth it. Not when a
// matrix product has one row per image and a weight too large for the caches
// (a fully connected classifier of many MB, as AlexNet's and VGG's): split,
// each image streams that weight from memory on its own, where one wide batch
// reads it once for all (AlexNet at batch 8 on 2 threads: 136 images/s wide,
// 63 to 75 split).
bool batch_split_pays(const Graph& g);

}  // namespace pt2onnx::runtime
