// Embedding pt2onnx's export in a C++ program: a PyTorch checkpoint in, a
// verified ONNX model out, the progress on standard error, a summary on
// standard output.
//
//   export CHECKPOINT.pth OUTPUT.onnx
#include <pt2onnx/error.h>
#include <pt2onnx/export.h>

#include <cstdio>
#include <string_view>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: export CHECKPOINT.pth OUTPUT.onnx\n");
    return 2;
  }
  pt2onnx::ExportRequest request;
  request.checkpoint = argv[1];
  request.output = argv[2];
  try {
    const auto result = pt2onnx::export_checkpoint(
        request, [](std::string_view text) { std::fwrite(text.data(), 1, text.size(), stderr); });
    std::printf("%s %s %lld outputs, %s, max difference %g\n", result.output.c_str(), result.arch.c_str(),
                static_cast<long long>(result.num_outputs), result.verified ? "verified" : "not verified",
                result.max_abs_diff);
    return 0;
  } catch (const pt2onnx::Error& e) {
    std::fprintf(stderr, "export: %s\n", e.what());
    return 1;
  }
}
