#include "fuzz/targets.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <string>

#include <fmt/format.h>

#include "checkpoint/checkpoint.h"
#include "checkpoint/unpickler.h"
#include "common/npy.h"
#include "pt2onnx/error.h"
#include "runtime/onnx_loader.h"
#include "runtime/passes/pipeline.h"
#include "runtime/shape_inference.h"
#include "serve/protocol.h"
#include "vision/dicom_decoder.h"
#include "vision/jpeg_decoder.h"
#include "vision/png_decoder.h"

namespace pt2onnx::fuzz {
namespace {

// Refusals are the expected outcome of most inputs; an internal error is a bug.
template <typename F>
bool refusals_allowed(F&& body) {
  try {
    body();
    return true;
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Internal) {
      fmt::print(stderr, "internal error: {}\n", e.what());
      std::abort();
    }
    return false;
  }
}

std::span<const std::byte> as_bytes(std::span<const std::uint8_t> data) { return std::as_bytes(data); }

// Limits small enough that a few bytes cannot make the fuzzer spend its time
// (or memory) on one input, large enough for the seeds.
checkpoint::ReadLimits small_read_limits() {
  checkpoint::ReadLimits limits;
  limits.max_entry_bytes = 64u << 20;
  limits.max_pickle_bytes = 16u << 20;
  limits.max_inflated_bytes = 64u << 20;
  limits.max_safetensors_header = 1u << 20;
  return limits;
}

vision::ImageLimits small_image_limits() {
  vision::ImageLimits limits;
  limits.max_side = 4096;
  limits.max_pixels = 4u << 20;
  limits.max_file_bytes = 64u << 20;
  return limits;
}

// The checkpoint readers take a path (libzip opens files): the bytes go to an
// anonymous in-memory file, named through /proc/self/fd.
bool with_memory_file(std::span<const std::uint8_t> data, const std::function<bool(const std::string&)>& use) {
  const int fd = ::memfd_create("pt2onnx-fuzz", MFD_CLOEXEC);
  if (fd < 0) std::abort();
  std::size_t done = 0;
  while (done < data.size()) {
    const auto n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) std::abort();
    done += static_cast<std::size_t>(n);
  }
  bool accepted = false;
  try {
    accepted = use(fmt::format("/proc/self/fd/{}", fd));
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return accepted;
}

bool checkpoint_file(std::span<const std::uint8_t> data) {
  return with_memory_file(data, [](const std::string& path) {
    return refusals_allowed([&] {
      auto checkpoint = checkpoint::read_checkpoint(path, small_read_limits());
      (void)checkpoint::extract_state_dict(std::move(checkpoint));
    });
  });
}

bool unpickler(std::span<const std::uint8_t> data) {
  return refusals_allowed([&] {
    checkpoint::UnpickleLimits limits;
    limits.max_opcodes = 1'000'000;
    (void)checkpoint::unpickle(as_bytes(data), {}, limits);
  });
}

bool onnx_model(std::span<const std::uint8_t> data) {
  return refusals_allowed([&] {
    auto loaded = runtime::load_onnx_bytes(as_bytes(data), "fuzz input");
    runtime::infer_shapes(loaded.graph);
    (void)runtime::run_passes(loaded.graph, {});
  });
}

bool npy(std::span<const std::uint8_t> data) {
  return refusals_allowed([&] { (void)parse_npy(as_bytes(data), "fuzz input"); });
}

bool png(std::span<const std::uint8_t> data) {
  return refusals_allowed([&] { (void)vision::decode_png(data, small_image_limits()); });
}

bool jpeg(std::span<const std::uint8_t> data) {
  return refusals_allowed([&] { (void)vision::decode_jpeg(data, small_image_limits()); });
}

bool dicom(std::span<const std::uint8_t> data) {
  return refusals_allowed([&] { (void)vision::decode_dicom(data, small_image_limits()); });
}

// An Open Inference Protocol infer request body. A body that starts with a
// decimal number and a line break is "Inference-Header-Content-Length\nBODY"
// (JSON, then binary tensor data); otherwise the whole input is a JSON body.
bool serve_request(std::span<const std::uint8_t> data) {
  const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  std::optional<std::size_t> json_length;
  std::string_view body = text;
  if (const auto line = text.find('\n');
      !text.empty() && text[0] >= '0' && text[0] <= '9' && line != text.npos && line <= 9) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < line && text[i] >= '0' && text[i] <= '9'; ++i)
      n = n * 10 + static_cast<std::size_t>(text[i] - '0');
    json_length = n;
    body = text.substr(line + 1);
  }
  serve::Limits limits;
  limits.max_elements = std::int64_t{1} << 20;
  return refusals_allowed([&] {
    const auto request = serve::parse_infer_request(body, json_length, limits);
    // What the server sends back is built from what it read.
    (void)serve::format_infer_response("model", "1", request, request.inputs);
  });
}

}  // namespace

const std::vector<NamedTarget>& targets() {
  // The three checkpoint containers share the reader entry point (the format
  // is detected from the content, as `pt2onnx inspect` does); their corpora
  // differ.
  static const std::vector<NamedTarget> kAll = {
      {"unpickler", unpickler},
      {"torch_zip", checkpoint_file},
      {"torch_legacy", checkpoint_file},
      {"safetensors", checkpoint_file},
      {"onnx", onnx_model},
      {"npy", npy},
      {"png", png},
      {"jpeg", jpeg},
      {"dicom", dicom},
      {"serve_request", serve_request},
  };
  return kAll;
}

Target target_named(std::string_view name) {
  for (const auto& t : targets()) {
    if (t.name == name) return t.run;
  }
  return nullptr;
}

}  // namespace pt2onnx::fuzz
