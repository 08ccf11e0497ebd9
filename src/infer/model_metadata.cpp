#include "infer/model_metadata.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/wire_format_lite.h>
#include <onnx/onnx_pb.h>

#include "common/error.h"
#include "common/labels.h"
#include "common/metadata_keys.h"

namespace pt2onnx::infer {

// Only ModelProto's metadata_props (field 14) are parsed; every other
// top-level field, the graph with its weights above all, is skipped by
// protobuf's own wire-format reader without being copied or kept. The
// runtime parses the whole model when it loads it.
std::map<std::string, std::string> read_model_metadata(const std::filesystem::path& model) {
  return with_error_context("model " + model.string(), [&] {
    std::ifstream in(model, std::ios::binary);
    if (!in) throw_error(ErrorKind::Io, fmt::format("cannot open: {}", std::strerror(errno)));
    google::protobuf::io::IstreamInputStream raw(&in);
    google::protobuf::io::CodedInputStream stream(&raw);
    stream.SetTotalBytesLimit(std::numeric_limits<int>::max());
    using google::protobuf::internal::WireFormatLite;
    constexpr int kMetadataProps = 14;
    std::map<std::string, std::string> metadata;
    while (const std::uint32_t tag = stream.ReadTag()) {
      if (WireFormatLite::GetTagFieldNumber(tag) == kMetadataProps &&
          WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
        onnx::StringStringEntryProto entry;
        if (!WireFormatLite::ReadMessage(&stream, &entry)) {
          throw_error(ErrorKind::BadInput, "not an ONNX model (protobuf parse failed)");
        }
        metadata[entry.key()] = entry.value();
      } else if (!WireFormatLite::SkipField(&stream, tag)) {
        throw_error(ErrorKind::BadInput, "not an ONNX model (protobuf parse failed)");
      }
    }
    if (!stream.ConsumedEntireMessage() || in.bad()) {
      throw_error(ErrorKind::BadInput, "not an ONNX model (protobuf parse failed)");
    }
    return metadata;
  });
}

std::vector<std::string> labels_for(const std::map<std::string, std::string>& metadata, std::size_t count) {
  const auto it = metadata.find(metadata_keys::kLabels);
  if (it == metadata.end()) {
    std::vector<std::string> labels;
    for (std::size_t i = 0; i < count; ++i) labels.push_back(fmt::format("output_{}", i));
    return labels;
  }
  auto labels = with_error_context(fmt::format("model metadata {}", metadata_keys::kLabels),
                                   [&] { return parse_labels(it->second, ErrorKind::BadInput); });
  if (labels.size() != count) {
    throw_error(ErrorKind::BadInput, fmt::format("model metadata {} names {} labels but the model has {} outputs",
                                                 metadata_keys::kLabels, labels.size(), count));
  }
  return labels;
}

}  // namespace pt2onnx::infer
