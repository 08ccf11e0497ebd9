// Test helper for the oracle tests: reads a checkpoint's state dict with
// pt2onnx and writes it back with write_torch_zip, so Python's torch.load can
// judge the writer.   pt2onnx_write_checkpoint IN OUT [WRAPPER_KEY]
#include <cstdio>
#include <string>

#include "checkpoint/checkpoint.h"
#include "pt2onnx/error.h"

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: %s IN OUT [WRAPPER_KEY]\n", argv[0]);
    return 2;
  }
  try {
    const auto loaded = pt2onnx::checkpoint::load_state_dict(argv[1]);
    pt2onnx::checkpoint::write_torch_zip(argv[2], loaded.state_dict, argc == 4 ? argv[3] : "");
  } catch (const pt2onnx::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
