// A bound layer graph to an ONNX ModelProto with the seed script's interface:
// input "image" float32 [batch, 3, H, W], output "logits" [batch, num_outputs],
// "batch" symbolic, eval-mode semantics, every name a torchvision module path.
#pragma once

#include <cstdint>

#include "exporter/export_options.h"
#include "nn/layer_graph.h"
#include "onnx/onnx_pb.h"

namespace pt2onnx::exporter {

inline constexpr const char* kProducerName = "pt2onnx";
inline constexpr const char* kBatchDim = "batch";

// Lowers every layer (one function per kind, see layer_lowerings.h) and adds
// the metadata. Throws Error: Usage for a bad opset or labels, ExportFailed
// for an unbound or inconsistent graph, Unsupported for a layer it cannot lower.
onnx::ModelProto export_model(const nn::LayerGraph& graph, const ExportOptions& options);

// The onnx checker's full check, as onnx.checker.check_model(m, full_check=True)
// does it: the structural check, then shape inference in strict mode with type
// checking; then the inferred output must be [batch, num_outputs] and the input
// [batch, channels, size, size]. Throws Error(ExportFailed) saying which step failed.
void check_exported_model(const onnx::ModelProto& model, std::int64_t channels, std::int64_t input_size,
                          std::int64_t num_outputs);

}  // namespace pt2onnx::exporter
