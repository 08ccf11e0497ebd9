#include "infer/output_format.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace pt2onnx::infer {
namespace {

// Six significant digits: well past the 1e-3 agreement we promise, and short.
std::string format_score(float v) { return fmt::format("{:.6g}", v); }

std::string json_string(std::string_view s) {
  // Paths are bytes; replace invalid UTF-8 instead of failing the row.
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string json_score(float v) { return std::isfinite(v) ? format_score(v) : "null"; }

}  // namespace

std::optional<OutputFormat> output_format_from_name(std::string_view name) {
  if (name == "csv") return OutputFormat::Csv;
  if (name == "jsonl") return OutputFormat::Jsonl;
  return std::nullopt;
}

std::optional<OutputActivation> output_activation_from_name(std::string_view name) {
  if (name == "sigmoid") return OutputActivation::Sigmoid;
  if (name == "softmax") return OutputActivation::Softmax;
  if (name == "none") return OutputActivation::None;
  return std::nullopt;
}

void apply_activation(OutputActivation activation, std::span<float> scores) {
  switch (activation) {
    case OutputActivation::None:
      return;
    case OutputActivation::Sigmoid:
      for (float& s : scores) s = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(s))));
      return;
    case OutputActivation::Softmax: {
      if (scores.empty()) return;
      const float top = *std::max_element(scores.begin(), scores.end());
      double sum = 0;
      for (float& s : scores) {
        const double e = std::exp(static_cast<double>(s) - top);
        s = static_cast<float>(e);
        sum += e;
      }
      for (float& s : scores) s = static_cast<float>(s / sum);
      return;
    }
  }
}

RowFormatter::RowFormatter(OutputFormat format, std::vector<std::string> labels, OutputActivation activation,
                           double threshold)
    : format_(format), labels_(std::move(labels)), activation_(activation), threshold_(threshold) {}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string RowFormatter::header() const {
  if (format_ != OutputFormat::Csv) return {};
  std::string line = "path";
  for (const auto& label : labels_) {
    line += ',';
    line += csv_field(label);
  }
  line += ",predicted,error\n";
  return line;
}

std::vector<std::size_t> RowFormatter::predicted(std::span<const float> scores) const {
  std::vector<std::size_t> picked;
  if (activation_ == OutputActivation::Softmax) {
    if (!scores.empty()) {
      picked.push_back(static_cast<std::size_t>(std::max_element(scores.begin(), scores.end()) - scores.begin()));
    }
    return picked;
  }
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (scores[i] > threshold_) picked.push_back(i);
  }
  return picked;
}

std::string RowFormatter::row(std::string_view path, std::span<const float> scores) const {
  const std::vector<std::size_t> picked = predicted(scores);
  if (format_ == OutputFormat::Csv) {
    std::string line = csv_field(path);
    for (float s : scores) {
      line += ',';
      line += format_score(s);
    }
    std::string names;
    for (std::size_t i : picked) {
      if (!names.empty()) names += ';';
      names += labels_[i];
    }
    line += ',';
    line += csv_field(names);
    line += ",\n";
    return line;
  }
  std::string line = "{\"path\":";
  line += json_string(path);
  line += activation_ == OutputActivation::None ? ",\"logits\":{" : ",\"probabilities\":{";
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (i != 0) line += ',';
    line += json_string(labels_[i]);
    line += ':';
    line += json_score(scores[i]);
  }
  line += "},\"predicted\":[";
  for (std::size_t j = 0; j < picked.size(); ++j) {
    if (j != 0) line += ',';
    line += json_string(labels_[picked[j]]);
  }
  line += "],\"error\":null}\n";
  return line;
}

std::string RowFormatter::error_row(std::string_view path, std::string_view error) const {
  if (format_ == OutputFormat::Csv) {
    std::string line = csv_field(path);
    for (std::size_t i = 0; i < labels_.size(); ++i) line += ",";
    // A message is one line; a stray newline would still be quoted correctly.
    line += ",,";
    line += csv_field(error);
    line += '\n';
    return line;
  }
  std::string line = "{\"path\":";
  line += json_string(path);
  line += ",\"error\":";
  line += json_string(error);
  line += "}\n";
  return line;
}

}  // namespace pt2onnx::infer
