#include "checkpoint/checkpoint.h"

#include <array>
#include <cstring>

#include <fmt/format.h>

#include "checkpoint/container_readers.h"
#include "checkpoint/input_file.h"
#include "pt2onnx/error.h"

namespace pt2onnx::checkpoint {
namespace {

// The legacy format starts with a pickle of torch's magic number: PROTO n,
// (a FRAME header from protocol 4 on), LONG1 of 10 bytes, the number itself.
constexpr std::uint8_t kProto = 0x80;
constexpr std::uint8_t kFrame = 0x95;
constexpr std::uint8_t kLong1 = 0x8a;
constexpr std::array<std::uint8_t, 10> kLegacyMagic{0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr std::size_t kFrameHeaderBytes = 9;
constexpr std::size_t kSniffBytes = 32;

bool starts_like_legacy(const std::vector<std::byte>& head) {
  auto byte = [&](std::size_t i) { return i < head.size() ? static_cast<std::uint8_t>(head[i]) : 0; };
  if (byte(0) != kProto || byte(1) < 2 || byte(1) > 5) return false;
  std::size_t pos = 2;
  if (byte(pos) == kFrame) pos += kFrameHeaderBytes;
  if (byte(pos) != kLong1 || byte(pos + 1) != static_cast<std::uint8_t>(kLegacyMagic.size())) return false;
  return head.size() >= pos + 2 + kLegacyMagic.size() &&
         std::memcmp(head.data() + pos + 2, kLegacyMagic.data(), kLegacyMagic.size()) == 0;
}

std::string file_context(const std::filesystem::path& path) { return fmt::format("file {}", path.string()); }

std::optional<CheckpointFormat> sniff(const InputFile& file) {
  if (file.size() == 0) throw_error(ErrorKind::BadInput, "the file is empty");
  const auto head = file.read_prefix(kSniffBytes);
  auto byte = [&](std::size_t i) { return i < head.size() ? static_cast<std::uint8_t>(head[i]) : 0; };
  // A zip starts with a local file header, or with the end record when empty.
  if (byte(0) == 'P' && byte(1) == 'K' && ((byte(2) == 3 && byte(3) == 4) || (byte(2) == 5 && byte(3) == 6))) {
    return CheckpointFormat::TorchZip;
  }
  if (starts_like_legacy(head)) return CheckpointFormat::TorchLegacy;
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
    case CheckpointFormat::TorchZip:
      return "torch-zip";
    case CheckpointFormat::TorchLegacy:
      return "torch-legacy";
    case CheckpointFormat::Safetensors:
      return "safetensors";
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
      case CheckpointFormat::TorchZip:
        return read_torch_zip(file, limits);
      case CheckpointFormat::TorchLegacy:
        return read_torch_legacy(file, limits);
      case CheckpointFormat::Safetensors:
        return read_safetensors(file, limits);
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
