// pt2onnx_vision_probe: a test-only tool that runs one stage of src/vision on
// one file and writes the result as .npy, so the oracle tests can compare it
// with PIL, pydicom and torchvision without the inference runtime.
//
//   decode     IN OUT.npy                        H x W x 3 pixels (convert("RGB"))
//   resize     IN OUT.npy WIDTH HEIGHT INTERP    H x W x C pixels (C as decoded)
//   prepare    IN OUT.npy RESIZE CROP INTERP     H x W x 3 pixels after resize and crop
//   preprocess IN OUT.npy RESIZE CROP INTERP MEAN STD   float32 3 x H x W
//   throughput DIR - RESIZE CROP INTERP   decode + preprocess every file in DIR on
//              one thread and print images/s (bench/bench_infer.py)
// Pixels are written as float32 0..255 (.npy via common/npy.h). RESIZE is "N" or
// "HxW", CROP "HxW", "N" or "none". Errors: message on stderr, exit 3.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/npy.h"
#include "pt2onnx/error.h"
#include "pt2onnx/tensor.h"
#include "vision/image_decoder.h"
#include "vision/preprocess.h"
#include "vision/preprocess_metadata.h"
#include "vision/resize.h"

namespace {

using namespace pt2onnx;
using namespace pt2onnx::vision;

// Pixel values as float32 (exact for 0..255), so common/npy.h can write them.
void write_image(const std::string& path, const Image& image) {
  std::vector<float> values(image.pixels.begin(), image.pixels.end());
  write_npy(path, make_f32({image.height, image.width, image.channels}, std::move(values)));
}

PreprocessSpec spec_from(char** argv) {
  PreprocessSpec spec;
  spec.resize = parse_resize(argv[0], ErrorKind::Usage);
  spec.crop = parse_crop(argv[1], ErrorKind::Usage);
  spec.interpolation = parse_interpolation(argv[2], ErrorKind::Usage);
  return spec;
}

// Decoding and preprocessing alone, one thread: what one infer worker can feed.
int throughput(const std::string& dir, char** spec_args) {
  const PreprocessSpec spec = spec_from(spec_args);
  const auto size = fixed_output_size(spec);
  if (!size) throw Error(ErrorKind::Usage, "throughput needs a fixed output size");
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::vector<float> tensor(3 * static_cast<std::size_t>(size->height) * static_cast<std::size_t>(size->width));
  const auto start = std::chrono::steady_clock::now();
  for (const auto& file : files) preprocess_into(load_image(file, {}), spec, *size, tensor);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%zu images in %.3f s: %.1f images/s\n", files.size(), seconds,
              static_cast<double>(files.size()) / seconds);
  return 0;
}

int run(int argc, char** argv) {
  if (argc < 4) throw Error(ErrorKind::Usage, "usage: pt2onnx_vision_probe COMMAND IN OUT.npy ...");
  const std::string command = argv[1];
  const std::string in = argv[2];
  const std::string out = argv[3];
  if (command == "throughput" && argc == 7) return throughput(in, argv + 4);
  const ImageLimits limits;
  const Image image = load_image(in, limits);
  if (command == "decode") {
    write_image(out, to_rgb(image));
  } else if (command == "resize" && argc == 7) {
    const Interpolation interp = parse_interpolation(argv[6], ErrorKind::Usage);
    write_image(out, resize(image, std::stoi(argv[4]), std::stoi(argv[5]), interp));
  } else if (command == "prepare" && argc == 7) {
    write_image(out, to_rgb(resize_and_crop(image, spec_from(argv + 4))));
  } else if (command == "preprocess" && argc == 9) {
    PreprocessSpec spec = spec_from(argv + 4);
    spec.mean = parse_triplet(argv[7], ErrorKind::Usage);
    spec.std = parse_triplet(argv[8], ErrorKind::Usage);
    const Image ready = resize_and_crop(image, spec);
    const Size2 size{ready.height, ready.width};
    Tensor tensor(DType::Float32, {3, size.height, size.width});
    preprocess_into(image, spec, size, tensor.f32());
    write_npy(out, tensor);
  } else {
    throw Error(ErrorKind::Usage, "unknown command or wrong argument count: " + command);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pt2onnx_vision_probe: %s\n", e.what());
    return 3;
  }
}
