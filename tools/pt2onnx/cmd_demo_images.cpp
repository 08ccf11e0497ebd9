// `pt2onnx demo-images`: a handful of sample images in every format `infer`
// reads, so that the demo (and a newcomer) can classify images without
// bringing any.
#include <filesystem>
#include <span>
#include <string>

#include <fmt/format.h>

#include "commands.h"
#include "common/atomic_file.h"
#include "vision/sample_images.h"

namespace pt2onnx::cli {
namespace {

namespace fs = std::filesystem;

struct DemoImagesArgs {
  std::string dir;
  bool force = false;
};

int run_demo_images(const DemoImagesArgs& args) {
  const fs::path dir = args.dir;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    throw Error(ErrorKind::Usage, fmt::format("{} exists and is not a directory", dir.string()));
  }
  const auto images = vision::sample_images();
  // Check every name before writing any, so that a refusal leaves nothing half done.
  if (!args.force) {
    for (const auto& image : images) {
      if (fs::exists(dir / image.file_name, ec)) {
        throw Error(ErrorKind::Usage, fmt::format("{} already exists; pass --force to replace the sample images in {}",
                                                  (dir / image.file_name).string(), dir.string()));
      }
    }
  }
  fs::create_directories(dir, ec);
  if (ec) throw Error(ErrorKind::Io, fmt::format("cannot create directory {}: {}", dir.string(), ec.message()));
  for (const auto& image : images) {
    write_file_atomically(dir / image.file_name, std::as_bytes(std::span(image.bytes)));
    fmt::print("  {:<24} {}\n", image.file_name, image.description);
  }
  fmt::print("Wrote {} sample images to {}\n", images.size(), dir.string());
  return static_cast<int>(ExitCode::Ok);
}

}  // namespace

void add_demo_images_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<DemoImagesArgs>();
  auto* cmd = app.add_subcommand(
      "demo-images",
      "Write sample images for trying 'infer': synthetic grayscale scans as RGB and grayscale JPEG, RGB, RGBA and "
      "grayscale PNG, and a 12-bit DICOM file (the same bytes on every machine)");
  cmd->add_option("DIR", args->dir, "Directory to write them to (created if missing)")->required();
  cmd->add_flag("--force", args->force, "Replace sample images already in DIR");
  cmd->callback([args, &action] { action = [args] { return run_demo_images(*args); }; });
}

}  // namespace pt2onnx::cli
