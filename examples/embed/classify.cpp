// Embedding pt2onnx's engine in a C++ program: load an ONNX model, run it on
// one image-shaped input filled with a value, print each output.
//
//   classify MODEL.onnx [VALUE]
#include <pt2onnx/error.h>
#include <pt2onnx/runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: classify MODEL.onnx [VALUE]\n");
    return 2;
  }
  const float value = argc > 2 ? std::strtof(argv[2], nullptr) : 0.5f;
  try {
    auto model = pt2onnx::runtime::Model::load(argv[1]);
    std::vector<pt2onnx::Tensor> inputs;
    for (const auto& info : model.inputs()) {
      pt2onnx::Shape shape = info.shape;
      for (auto& d : shape) d = d < 0 ? 1 : d;  // one image where the batch is symbolic
      pt2onnx::Tensor t(pt2onnx::DType::Float32, shape);
      std::fill(t.f32().begin(), t.f32().end(), value);
      inputs.push_back(std::move(t));
    }
    const auto outputs = model.run(inputs);
    for (std::size_t o = 0; o < outputs.size(); ++o) {
      std::printf("%s", model.outputs()[o].name.c_str());
      for (const float v : outputs[o].f32()) std::printf(" %.9g", static_cast<double>(v));
      std::printf("\n");
    }
  } catch (const pt2onnx::Error& e) {
    std::fprintf(stderr, "classify: %s\n", e.what());
    return 1;
  }
  return 0;
}
