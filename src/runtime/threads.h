// Thread count of the engine: oneDNN here is built on OpenMP, whose team
// size is set per calling thread.
#pragma once

namespace pt2onnx::runtime {

// Physical cores this process may run on (hyper-threads counted once);
// falls back to the logical CPU count when the topology is not readable.
int physical_cores();

// Sets the OpenMP team size for parallel regions started by this thread.
void set_thread_count(int threads);

}  // namespace pt2onnx::runtime
