// Flattens a checkpoint's object tree into named leaves for listings: dict
// keys joined with '.', list and tuple indices in decimal (the names
// `pt2onnx inspect` prints and a --key path uses).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "checkpoint/value.h"

namespace pt2onnx::checkpoint {

struct TreeLeaf {
  std::string name;
  Value value;  // a tensor, or a non-tensor leaf: scalar, string, set, object, empty container
};

// The path segment a dict key contributes: strings as they are, ints in
// decimal, anything else as its short repr.
std::string key_segment(const Value& key);

// Leaves in file order, descending through dicts, lists and tuples. A shared
// object is listed under every name it has, as torch.load's result would
// show it; max_leaves stops a file that shares sub-objects exponentially.
std::vector<TreeLeaf> list_leaves(const Value& root, const std::string& root_name = "",
                                  std::size_t max_leaves = 1'000'000);

}  // namespace pt2onnx::checkpoint
