// pt2onnx_reference_tool: a test-only driver that lets the Python oracle tests
// reach the layer graphs, the binder and the reference executor.
//
//   pt2onnx_reference_tool expected-state ARCH NUM_OUTPUTS
//       prints "key<TAB>shape<TAB>param|buffer" for every expected state-dict entry.
//   pt2onnx_reference_tool layers ARCH NUM_OUTPUTS
//       prints "path<TAB>kind<TAB>inputs<TAB>attrs" for every layer, attrs as JSON.
//   pt2onnx_reference_tool run --arch ARCH --state-dir DIR --input X.npy --output Y.npy
//       DIR holds keys.txt (one state-dict key a line, in order; "KEY<TAB>int64"
//       for an integer buffer, whose .npy holds its values as float32) and
//       KEY.npy for each; builds and binds ARCH, runs the reference on X, writes Y.
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/npy.h"
#include "models/registry.h"
#include "pt2onnx/error.h"
#include "reference/reference.h"

namespace {

using namespace pt2onnx;

checkpoint::StateDict load_state_dir(const std::filesystem::path& dir) {
  std::ifstream keys(dir / "keys.txt");
  if (!keys) throw Error(ErrorKind::Io, fmt::format("cannot open {}", (dir / "keys.txt").string()));
  checkpoint::StateDict state;
  std::string key;
  std::string line;
  while (std::getline(keys, line)) {
    if (line.empty()) continue;
    const auto tab = line.find('\t');
    key = line.substr(0, tab);
    Tensor t = read_npy(dir / (key + ".npy"));
    if (tab != std::string::npos && line.substr(tab + 1) == "int64") {
      Tensor integers(DType::Int64, t.shape());
      for (std::size_t i = 0; i < t.f32().size(); ++i) {
        const auto v = static_cast<std::int64_t>(t.f32()[i]);
        std::memcpy(integers.bytes().data() + i * sizeof v, &v, sizeof v);
      }
      t = std::move(integers);
    }
    state.entries.emplace_back(key, std::move(t));
  }
  return state;
}

nlohmann::json attrs_json(const nn::Layer& layer) {
  using nlohmann::json;
  return std::visit(
      [](const auto& a) -> json {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, nn::Conv2dAttrs>) {
          return {{"in_channels", a.in_channels},
                  {"out_channels", a.out_channels},
                  {"kernel_size", {a.kernel[0], a.kernel[1]}},
                  {"stride", {a.stride[0], a.stride[1]}},
                  {"padding", {a.padding[0], a.padding[1]}},
                  {"dilation", {a.dilation[0], a.dilation[1]}},
                  {"groups", a.groups},
                  {"bias", a.bias}};
        } else if constexpr (std::is_same_v<T, nn::BatchNormAttrs>) {
          return {{"num_features", a.num_features}, {"eps", a.eps}};
        } else if constexpr (std::is_same_v<T, nn::LinearAttrs>) {
          return {{"in_features", a.in_features}, {"out_features", a.out_features}, {"bias", a.bias}};
        } else if constexpr (std::is_same_v<T, nn::PoolAttrs>) {
          return {{"kernel_size", {a.kernel[0], a.kernel[1]}},
                  {"stride", {a.stride[0], a.stride[1]}},
                  {"padding", {a.padding[0], a.padding[1]}}};
        } else if constexpr (std::is_same_v<T, nn::DropoutAttrs>) {
          return {{"p", a.p}};
        } else if constexpr (std::is_same_v<T, nn::FlattenAttrs>) {
          return {{"start_dim", a.start_dim}};
        } else {
          return json::object();
        }
      },
      layer.attrs);
}

int run(int argc, char** argv) {
  CLI::App app{"pt2onnx reference test tool"};
  app.require_subcommand(1);
  std::string arch;
  std::int64_t num_outputs = 2;
  auto* expected = app.add_subcommand("expected-state", "print the expected state-dict keys and shapes");
  expected->add_option("arch", arch)->required();
  expected->add_option("num_outputs", num_outputs)->required();

  auto* layers = app.add_subcommand("layers", "print the layer graph");
  layers->add_option("arch", arch)->required();
  layers->add_option("num_outputs", num_outputs)->required();

  std::string state_dir, input, output;
  double dropout = 0.2;
  auto* run_cmd = app.add_subcommand("run", "bind a state dict and run the reference");
  run_cmd->add_option("--arch", arch)->required();
  run_cmd->add_option("--state-dir", state_dir)->required();
  run_cmd->add_option("--input", input)->required();
  run_cmd->add_option("--output", output)->required();
  run_cmd->add_option("--dropout", dropout);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (expected->parsed()) {
    const nn::LayerGraph g = models::build(arch, {num_outputs, 0.2});
    for (const auto& [k, spec] : g.expected_state()) {
      std::cout << k << '\t' << shape_to_string(spec.shape) << '\t' << (spec.is_buffer ? "buffer" : "param") << '\n';
    }
    return 0;
  }
  if (layers->parsed()) {
    const nn::LayerGraph g = models::build(arch, {num_outputs, 0.2});
    for (const auto& layer : g.layers) {
      std::cout << layer.path << '\t' << nn::layer_kind_name(layer.kind) << '\t'
                << fmt::format("{}", fmt::join(layer.inputs, ",")) << '\t' << attrs_json(layer).dump() << '\n';
    }
    return 0;
  }
  const auto state = load_state_dir(state_dir);
  const nn::LayerGraph g = models::build_and_bind(arch, state, dropout);
  const Tensor x = read_npy(input);
  const auto start = std::chrono::steady_clock::now();
  const Tensor y = reference::forward(g, x);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  write_npy(output, y);
  std::cerr << fmt::format("reference: {} batch {} {}x{} in {:.3f} s\n", arch, x.dim(0), x.dim(2), x.dim(3),
                           took.count());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const pt2onnx::Error& e) {
    std::cerr << "pt2onnx_reference_tool: error: " << e.what() << '\n';
    return 4;
  }
}
