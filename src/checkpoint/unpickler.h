// A pickle reader for protocols 0 to 5 that builds a Value tree and never
// executes anything: see pickle_callables.h for what happens at REDUCE and
// friends. Every length is checked against the bytes that are there; the
// result is checked to be acyclic and at most max_depth deep.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "checkpoint/value.h"

namespace pt2onnx::checkpoint {

// Resolves a persistent id (PERSID, BINPERSID) to a value; torch uses it for storages.
using PersistentLoad = std::function<Value(const Value& pid)>;

struct UnpickleLimits {
  std::size_t max_depth = 200;        // container nesting in the result
  std::size_t max_long_bytes = 4096;  // LONG1/LONG4 payloads (decimal conversion is quadratic)
  // Each opcode can make an object of ~100 bytes from 1 byte of input; this
  // bounds that amplification (a real state dict's pickle has thousands).
  std::size_t max_opcodes = 20'000'000;
};

struct UnpickleResult {
  Value root;
  std::size_t consumed = 0;  // bytes up to and including STOP
  // Every tensor rebuilt, to materialise once the storages are read.
  std::vector<std::weak_ptr<TensorData>> tensors;
};

// Reads one pickle from the start of data. Errors are Error(BadInput) (or
// Unsupported) with the offset and opcode as context; offsets count from
// base_offset (the pickle's position in its file or record). persistent_load
// may be empty; a persistent id then is an error.
UnpickleResult unpickle(std::span<const std::byte> data, const PersistentLoad& persistent_load,
                        const UnpickleLimits& limits = {}, std::size_t base_offset = 0);

}  // namespace pt2onnx::checkpoint
