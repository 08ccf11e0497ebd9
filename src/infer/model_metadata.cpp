#include "infer/model_metadata.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include "common/error.h"

namespace pt2onnx::infer {

std::map<std::string, std::string> read_model_metadata(const std::filesystem::path& model) {
  return with_error_context("model " + model.string(), [&] {
    std::ifstream in(model, std::ios::binary);
    if (!in) throw_error(ErrorKind::Io, fmt::format("cannot open: {}", std::strerror(errno)));
    onnx::ModelProto proto;
    if (!proto.ParseFromIstream(&in)) throw_error(ErrorKind::BadInput, "not an ONNX model (protobuf parse failed)");
    std::map<std::string, std::string> metadata;
    for (const auto& prop : proto.metadata_props()) metadata[prop.key()] = prop.value();
    return metadata;
  });
}

std::vector<std::string> split_labels(std::string_view text) {
  std::vector<std::string> labels;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    std::string_view part =
        text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (part.empty()) throw_error(ErrorKind::BadInput, fmt::format("label list '{}' has an empty name", text));
    labels.emplace_back(part);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return labels;
}

std::vector<std::string> labels_for(const std::map<std::string, std::string>& metadata, std::size_t count) {
  const auto it = metadata.find(metadata_keys::kLabels);
  if (it == metadata.end()) {
    std::vector<std::string> labels;
    for (std::size_t i = 0; i < count; ++i) labels.push_back(fmt::format("output_{}", i));
    return labels;
  }
  auto labels = with_error_context(fmt::format("model metadata {}", metadata_keys::kLabels),
                                   [&] { return split_labels(it->second); });
  if (labels.size() != count) {
    throw_error(ErrorKind::BadInput, fmt::format("model metadata {} names {} labels but the model has {} outputs",
                                                 metadata_keys::kLabels, labels.size(), count));
  }
  return labels;
}

}  // namespace pt2onnx::infer
