// Whole-graph operations on the objects an unpickler made. Pickle's memo can
// make any graph, cyclic and arbitrarily deep; these keep every later walk and
// every destruction bounded.
#pragma once

#include <cstddef>
#include <unordered_set>
#include <vector>

#include "checkpoint/value.h"

namespace pt2onnx::checkpoint {

// Throws Error(BadInput) if the graph from root has a cycle or nests deeper
// than max_depth. Returns the identities of the shared objects reachable from root.
std::unordered_set<const void*> check_object_graph(const Value& root, std::size_t max_depth);

// Empties every object in `objects` that is not in `keep` (all of them when
// keep is null), so that freeing them cannot recurse: each one's children are
// moved out before any is destroyed. Clears `objects`.
void release_objects(std::vector<Value>& objects, const std::unordered_set<const void*>* keep);

}  // namespace pt2onnx::checkpoint
