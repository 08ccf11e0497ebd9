// The ordered pass pipeline (pipeline.cpp says why each pass sits where it does).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runtime/graph.h"

namespace pt2onnx::runtime {

struct PassReport {
  std::string name;
  int applied = 0;  // rewrites made
  std::map<OpType, int> before;
  std::map<OpType, int> after;
};

// Names of the passes, in pipeline order.
std::vector<std::string> pass_names();

// Throws Error(Usage) for a name that is not a pass.
void check_pass_names(const std::vector<std::string>& names);

// Runs every pass not in `disabled`, each to a fixed point. After each pass:
// dead nodes dropped, order re-sorted, shapes re-inferred, graph checked
// (Error(Internal) naming the pass if it broke an invariant).
std::vector<PassReport> run_passes(Graph& g, const std::vector<std::string>& disabled);

// Removes nodes none of whose outputs is read or a graph output.
void remove_dead_nodes(Graph& g);

}  // namespace pt2onnx::runtime
