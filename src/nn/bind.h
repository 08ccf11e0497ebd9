// Binding a state dict to a layer graph, as torch's load_state_dict(strict=True):
// every expected key present with its exact shape, no unexpected key
// (`<batchnorm>.num_batches_tracked` accepted and ignored), floating-point
// tensors converted to float32.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "checkpoint/state_dict.h"
#include "nn/layer_graph.h"

namespace pt2onnx::nn {

struct ShapeMismatch {
  std::string key;
  Shape checkpoint;
  Shape expected;
};

struct DTypeMismatch {
  std::string key;
  DType checkpoint;
  bool integer_expected = false;  // an index buffer that holds a floating-point tensor
};

// How well a state dict fits a graph. Lists keep the graph's (missing, shape,
// dtype) or the checkpoint's (unexpected, duplicate) order.
struct BindReport {
  std::size_t expected_keys = 0;
  std::size_t matched_keys = 0;  // present with the right shape and a floating dtype
  std::vector<std::string> missing;
  std::vector<std::string> unexpected;
  std::vector<std::string> duplicates;
  std::vector<ShapeMismatch> shape_mismatches;
  std::vector<DTypeMismatch> dtype_mismatches;
  // Keys under the graph's training-only paths: accepted and left unbound.
  std::vector<std::string> training_only;

  [[nodiscard]] bool ok() const {
    return missing.empty() && unexpected.empty() && duplicates.empty() && shape_mismatches.empty() &&
           dtype_mismatches.empty();
  }
  // One paragraph: the counts, then the first few of each kind of fault.
  [[nodiscard]] std::string describe(const std::string& arch) const;
};

// Compares without binding; never throws for a bad state dict.
BindReport check_state(const LayerGraph& graph, const checkpoint::StateDict& state);

// Fills every layer's params with float32 copies of its tensors, and notes
// any training-only tensors it dropped in graph.notes. On any fault
// throws Error(ArchMismatch) with BindReport::describe and leaves the graph unbound.
void bind(LayerGraph& graph, const checkpoint::StateDict& state);

}  // namespace pt2onnx::nn
