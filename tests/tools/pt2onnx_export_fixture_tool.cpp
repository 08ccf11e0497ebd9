// pt2onnx_export_fixture_tool: a test-only driver that exports the hand-built
// graphs of tests/exporter/graph_fixtures.h, so that an oracle test can run
// every layer kind's lowering in ONNX Runtime against the same layers in torch.
//
//   pt2onnx_export_fixture_tool GRAPH OPSET OUT.onnx PARAMS.json
//     GRAPH: tiny_efficientnet | tiny_mixed. Writes the checked export and the
//     graph's bound parameters before any folding, as
//     {"state-dict key": {"shape": [...], "data": [...]}}.
#include <cstdio>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "../exporter/graph_fixtures.h"
#include "exporter/atomic_write.h"
#include "exporter/onnx_export.h"
#include "pt2onnx/error.h"

int main(int argc, char** argv) {
  using namespace pt2onnx;
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s tiny_efficientnet|tiny_mixed OPSET OUT.onnx PARAMS.json\n", argv[0]);
    return 2;
  }
  try {
    const std::string name = argv[1];
    nn::LayerGraph graph;
    if (name == "tiny_efficientnet") {
      graph = exporter::testing::tiny_efficientnet(3);
    } else if (name == "tiny_mixed") {
      graph = exporter::testing::tiny_mixed(3);
    } else {
      throw Error(ErrorKind::Usage, "unknown graph " + name);
    }
    exporter::ExportOptions options;
    options.opset = std::stoi(argv[2]);
    const auto model = exporter::export_model(graph, options);
    exporter::check_exported_model(model, graph.input_channels, graph.input_size, graph.num_outputs);
    exporter::write_model(model, argv[3], std::nullopt);

    nlohmann::json params = nlohmann::json::object();
    for (const auto& layer : graph.layers) {
      for (const auto& [local, tensor] : layer.params) {
        const auto values = tensor.f32();
        params[nn::state_key(layer.path, local)] = {{"shape", tensor.shape()},
                                                    {"data", std::vector<float>(values.begin(), values.end())}};
      }
    }
    std::ofstream(argv[4]) << params.dump();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pt2onnx_export_fixture_tool: %s\n", e.what());
    return 1;
  }
}
