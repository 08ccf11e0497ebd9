#include "checkpoint/checkpoint.h"

#include <array>
#include <cstring>

#include <fmt/format.h>

#include "checkpoint/container_readers.h"
#include "checkpoint/input_file.h"
#include "common/error.h"

namespace pt2onnx::checkpoint {
namespace {

// PROTO 2, LONG1 of 10 bytes, then torch's magic number 0x1950a86a20f9469cfc6c little-endian.
constexpr std::array<std::uint8_t, 14> kLegacyStart{0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c,
                                                    0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr std::size_t kSniffBytes = 16;

std::string file_context(const std::filesystem::path& path) { return fmt::format("file {}", path.string()); }

std::optional<CheckpointFormat> sniff(const InputFile& file) {
  if (file.size() == 0) throw_error(ErrorKind::BadInput, "the file is empty");
  const auto head = file.read_prefix(kSniffBytes);
  auto byte = [&](std::size_t i) { return i < head.size() ? static_cast<std::uint8_t>(head[i]) : 0; };
  // A zip starts with a local file header, or with the end record when empty.
  if (byte(0) == 'P' && byte(1) == 'K' &&
      ((byte(2) == 3 && byte(3) == 4) || (byte(2) == 5 && byte(3) == 6))) {
    return CheckpointFormat::TorchZip;
  }
  if (head.size() >= kLegacyStart.size() && std::memcmp(head.data(), kLegacyStart.data(), kLegacyStart.size()) == 0) {
    return CheckpointFormat::TorchLegacy;
  }
  // safetensors: a header length, then the JSON object's brace. A length past
  // the end still counts, so that a truncated file gets a precise message.
  if (head.size() >= 9 && byte(8) == '{') {
    std::uint64_t n = 0;
    for (std::size_t i = 8; i-- > 0;) n = (n << 8) | byte(i);
    if (n >= 2) return CheckpointFormat::Safetensors;
  }
  return std::nullopt;
}

}  // namespace

std::string_view format_name(CheckpointFormat format) {
  switch (format) {
    case CheckpointFormat::TorchZip: return "torch-zip";
    case CheckpointFormat::TorchLegacy: return "torch-legacy";
    case CheckpointFormat::Safetensors: return "safetensors";
  }
  return "?";
}

std::optional<CheckpointFormat> detect_checkpoint_format(const std::filesystem::path& path) {
  return with_error_context(file_context(path), [&] {
    InputFile file(path);
    return sniff(file);
  });
}

Checkpoint read_checkpoint(const std::filesystem::path& path, const ReadLimits& limits) {
  return with_error_context(file_context(path), [&] {
    InputFile file(path);
    const auto format = sniff(file);
    if (!format) {
      throw_error(ErrorKind::BadInput,
                  "not a checkpoint: neither a torch.save zip, a legacy torch.save file nor safetensors");
    }
    switch (*format) {
      case CheckpointFormat::TorchZip: return read_torch_zip(file, limits);
      case CheckpointFormat::TorchLegacy: return read_torch_legacy(file, limits);
      case CheckpointFormat::Safetensors: return read_safetensors(file, limits);
    }
    throw_error(ErrorKind::Internal, "unhandled checkpoint format");
  });
}

LoadedStateDict load_state_dict(const std::filesystem::path& path, const std::optional<std::string>& key,
                                const ReadLimits& limits) {
  auto checkpoint = read_checkpoint(path, limits);
  return with_error_context(file_context(path), [&] { return extract_state_dict(std::move(checkpoint), key); });
}

}  // namespace pt2onnx::checkpoint
