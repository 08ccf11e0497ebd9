#include "common/onnx_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/wire_format_lite.h>

#include "pt2onnx/error.h"

namespace pt2onnx {
namespace fs = std::filesystem;
namespace {

// Wire-format tags (field << 3 | wire type) of the fields a ModelProto writer
// emits after ir_version: producer_name .. opset_import, metadata_props.
constexpr std::array<unsigned char, 8> kTagsAfterIrVersion{0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72};
constexpr unsigned char kIrVersionTag = 0x08;
constexpr int kGraphField = 7;

class ReadOnlyFile {
 public:
  explicit ReadOnlyFile(const fs::path& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) throw_error(ErrorKind::Io, fmt::format("cannot open: {}", std::strerror(errno)));
  }
  ReadOnlyFile(const ReadOnlyFile&) = delete;
  ReadOnlyFile& operator=(const ReadOnlyFile&) = delete;
  ~ReadOnlyFile() { ::close(fd_); }
  [[nodiscard]] int fd() const { return fd_; }

 private:
  int fd_;
};

std::uint64_t check_size(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) throw_error(ErrorKind::Io, fmt::format("cannot read: {}", ec.message()));
  if (size > kMaxOnnxBytes) {
    throw_error(ErrorKind::BadInput, fmt::format("{} bytes is over protobuf's 2 GiB limit for an ONNX file", size));
  }
  return size;
}

void check_parsed(bool parsed, google::protobuf::io::CodedInputStream& stream, const onnx::ModelProto& model) {
  if (!parsed || !stream.ConsumedEntireMessage()) {
    throw_error(ErrorKind::BadInput, "not a valid ONNX model (protobuf parsing failed)");
  }
  if (!model.has_graph()) throw_error(ErrorKind::BadInput, "an ONNX model without a graph");
}

}  // namespace

bool is_onnx_file(const fs::path& path) {
  auto ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".onnx") return true;
  std::ifstream in(path, std::ios::binary);
  std::array<unsigned char, 3> head{};
  if (!in.read(reinterpret_cast<char*>(head.data()), head.size())) return false;
  // ir_version is a small varint (1 byte) in every real model.
  return head[0] == kIrVersionTag && head[1] > 0 && head[1] < 0x80 &&
         std::find(kTagsAfterIrVersion.begin(), kTagsAfterIrVersion.end(), head[2]) != kTagsAfterIrVersion.end();
}

onnx::ModelProto read_onnx_model(const fs::path& path) {
  return with_error_context(fmt::format("file {}", path.string()), [&] {
    check_size(path);
    const ReadOnlyFile file(path);
    google::protobuf::io::FileInputStream raw(file.fd());
    google::protobuf::io::CodedInputStream stream(&raw);
    stream.SetTotalBytesLimit(static_cast<int>(kMaxOnnxBytes));
    onnx::ModelProto model;
    const bool parsed = model.ParseFromCodedStream(&stream);
    check_parsed(parsed, stream, model);
    return model;
  });
}

onnx::ModelProto parse_onnx_model(std::span<const std::byte> bytes, const std::string& source) {
  return with_error_context(source, [&] {
    if (bytes.size() > kMaxOnnxBytes) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("{} bytes is over protobuf's 2 GiB limit for an ONNX file", bytes.size()));
    }
    google::protobuf::io::CodedInputStream stream(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                                  static_cast<int>(bytes.size()));
    stream.SetTotalBytesLimit(static_cast<int>(bytes.size()));
    onnx::ModelProto model;
    const bool parsed = model.ParseFromCodedStream(&stream);
    check_parsed(parsed, stream, model);
    return model;
  });
}

onnx::ModelProto read_onnx_model_header(const fs::path& path) {
  return with_error_context(fmt::format("file {}", path.string()), [&] {
    const auto size = check_size(path);
    const ReadOnlyFile file(path);
    google::protobuf::io::FileInputStream raw(file.fd());
    google::protobuf::io::CodedInputStream stream(&raw);
    stream.SetTotalBytesLimit(static_cast<int>(kMaxOnnxBytes));
    using google::protobuf::internal::WireFormatLite;
    // Every field but the graph is copied out as it stands and parsed at the
    // end; the graph (the weights above all) is skipped with a seek.
    std::string header;
    {
      google::protobuf::io::StringOutputStream header_stream(&header);
      google::protobuf::io::CodedOutputStream out(&header_stream);
      while (const std::uint32_t tag = stream.ReadTag()) {
        const bool skipped = WireFormatLite::GetTagFieldNumber(tag) == kGraphField
                                 ? WireFormatLite::SkipField(&stream, tag)
                                 : WireFormatLite::SkipField(&stream, tag, &out);
        if (!skipped) throw_error(ErrorKind::BadInput, "not a valid ONNX model (protobuf parsing failed)");
      }
    }
    // Skipping seeks, and a seek past the end succeeds: a field cut short
    // shows as a position beyond the file.
    onnx::ModelProto model;
    if (!stream.ConsumedEntireMessage() || raw.GetErrno() != 0 ||
        static_cast<std::uint64_t>(stream.CurrentPosition()) != size || !model.ParseFromString(header)) {
      throw_error(ErrorKind::BadInput, "not a valid ONNX model (protobuf parsing failed)");
    }
    return model;
  });
}

std::map<std::string, std::string> read_onnx_metadata(const fs::path& path) {
  const auto model = read_onnx_model_header(path);
  std::map<std::string, std::string> metadata;
  for (const auto& entry : model.metadata_props()) metadata[entry.key()] = entry.value();
  return metadata;
}

}  // namespace pt2onnx
