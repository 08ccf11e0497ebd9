#include "exporter/onnx_file.h"

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

#include "common/error.h"
#include "exporter/atomic_write.h"

namespace pt2onnx::exporter {
namespace fs = std::filesystem;
namespace {

// Wire-format tags (field << 3 | wire type) of the fields a ModelProto writer
// emits after ir_version: producer_name .. opset_import, metadata_props.
constexpr std::array<unsigned char, 8> kTagsAfterIrVersion{0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72};
constexpr unsigned char kIrVersionTag = 0x08;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

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
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) throw_error(ErrorKind::Io, fmt::format("cannot read {}: {}", path.string(), ec.message()));
  if (size > kProtobufLimitBytes) {
    throw_error(ErrorKind::BadInput,
                fmt::format("{} is {} bytes, over protobuf's 2 GiB limit for an ONNX file", path.string(), size));
  }
  Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) throw_error(ErrorKind::Io, fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
  google::protobuf::io::FileInputStream raw(file.fd);
  google::protobuf::io::CodedInputStream coded(&raw);
  coded.SetTotalBytesLimit(static_cast<int>(kProtobufLimitBytes));
  onnx::ModelProto model;
  if (!model.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage()) {
    throw_error(ErrorKind::BadInput,
                fmt::format("{} is not a valid ONNX model (protobuf parse failed)", path.string()));
  }
  if (!model.has_graph())
    throw_error(ErrorKind::BadInput, fmt::format("{} is an ONNX file without a graph", path.string()));
  return model;
}

}  // namespace pt2onnx::exporter
