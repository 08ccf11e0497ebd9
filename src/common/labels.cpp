#include "common/labels.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

namespace pt2onnx {
namespace {

void check_names(const std::vector<std::string>& labels, ErrorKind kind) {
  std::set<std::string_view> seen;
  for (const auto& label : labels) {
    if (label.empty() || label.find_first_of(",\n\r") != std::string::npos) {
      throw_error(kind, fmt::format("label name '{}' is empty or contains ',' or a line break", label));
    }
    if (!seen.insert(label).second) {
      throw_error(kind, fmt::format("label name '{}' is given twice ({})", label, fmt::join(labels, ",")));
    }
  }
}

}  // namespace

std::vector<std::string> parse_labels(std::string_view text, ErrorKind kind) {
  std::vector<std::string> labels;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    std::string_view part =
        text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!part.empty() && (part.front() == ' ' || part.front() == '\t')) part.remove_prefix(1);
    while (!part.empty() && (part.back() == ' ' || part.back() == '\t')) part.remove_suffix(1);
    if (part.empty()) throw_error(kind, fmt::format("label list '{}' has an empty name", text));
    labels.emplace_back(part);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  check_names(labels, kind);
  return labels;
}

void check_labels(const std::vector<std::string>& labels, std::int64_t outputs, ErrorKind kind) {
  if (static_cast<std::int64_t>(labels.size()) != outputs) {
    throw_error(kind, fmt::format("{} label names given ({}) but the model has {} outputs", labels.size(),
                                  fmt::join(labels, ","), outputs));
  }
  check_names(labels, kind);
}

}  // namespace pt2onnx
