// pt2onnx_vision_probe: a test-only tool that runs one stage of src/vision on
// one file and writes the result as .npy, so the oracle tests can compare it
// with PIL, pydicom and torchvision without the inference runtime.
//
//   decode     IN OUT.npy                        uint8 H x W x 3 (convert("RGB"))
//   resize     IN OUT.npy WIDTH HEIGHT INTERP    uint8 H x W x C (C as decoded)
//   prepare    IN OUT.npy RESIZE CROP INTERP     uint8 H x W x 3 after resize and crop
//   preprocess IN OUT.npy RESIZE CROP INTERP MEAN STD   float32 3 x H x W
// RESIZE is "N" or "HxW", CROP "HxW", "N" or "none". Errors: message on stderr, exit 3.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "vision/image_decoder.h"
#include "vision/preprocess.h"
#include "vision/preprocess_metadata.h"
#include "vision/resize.h"

namespace {

using namespace pt2onnx;
using namespace pt2onnx::vision;

void write_npy(const std::string& path, const char* descr, const std::vector<std::size_t>& shape, const void* data,
               std::size_t bytes) {
  std::string dims;
  for (std::size_t d : shape) dims += fmt::format("{},", d);
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr, dims);
  // Magic (6) + version (2) + length (2) + header + '\n', padded to 64 bytes.
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const auto len = static_cast<std::uint16_t>(header.size());
  const char len_bytes[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
  out.write(len_bytes, 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  if (!out) throw Error(ErrorKind::Io, "cannot write " + path);
}

void write_image(const std::string& path, const Image& image) {
  write_npy(path, "|u1",
            {static_cast<std::size_t>(image.height), static_cast<std::size_t>(image.width),
             static_cast<std::size_t>(image.channels)},
            image.pixels.data(), image.pixels.size());
}

PreprocessSpec spec_from(char** argv) {
  PreprocessSpec spec;
  spec.resize = parse_resize(argv[0], ErrorKind::Usage);
  spec.crop = parse_crop(argv[1], ErrorKind::Usage);
  spec.interpolation = parse_interpolation(argv[2], ErrorKind::Usage);
  return spec;
}

int run(int argc, char** argv) {
  if (argc < 4) throw Error(ErrorKind::Usage, "usage: pt2onnx_vision_probe COMMAND IN OUT.npy ...");
  const std::string command = argv[1];
  const std::string in = argv[2];
  const std::string out = argv[3];
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
    std::vector<float> tensor(3 * static_cast<std::size_t>(size.height) * static_cast<std::size_t>(size.width));
    preprocess_into(image, spec, size, tensor);
    write_npy(out, "<f4", {3, static_cast<std::size_t>(size.height), static_cast<std::size_t>(size.width)},
              tensor.data(), tensor.size() * sizeof(float));
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
