// Rows of `pt2onnx infer` output, one per input image, in CSV or JSON Lines.
//
// CSV:   path,<label 1>,...,<label n>,predicted,error
//        a.png,0.912,0.033,biopsy,
//        bad.png,,,,"file bad.png: not a JPEG, PNG or DICOM file (...)"
// JSONL: {"path":"a.png","probabilities":{"biopsy":0.912,"magview":0.033},"predicted":["biopsy"],"error":null}
//        {"path":"bad.png","error":"file bad.png: ..."}
// With --activation none the scores are raw logits (JSON key "logits").
// predicted: sigmoid and none, every label whose score is over the threshold
// (';'-joined in CSV); softmax, the single highest-scoring label.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pt2onnx/classify.h"

namespace pt2onnx::infer {

enum class OutputFormat { Csv, Jsonl };
// The public API's (pt2onnx/classify.h), defined there once.
using OutputActivation = pt2onnx::ScoreActivation;

std::optional<OutputFormat> output_format_from_name(std::string_view name);
std::optional<OutputActivation> output_activation_from_name(std::string_view name);

// In place, over one image's outputs.
void apply_activation(OutputActivation activation, std::span<float> scores);

class RowFormatter {
 public:
  RowFormatter(OutputFormat format, std::vector<std::string> labels, OutputActivation activation, double threshold);

  // The first line of a CSV file ("" for JSONL), with its '\n'.
  [[nodiscard]] std::string header() const;
  // One complete line with its '\n'. `scores` are already activated.
  [[nodiscard]] std::string row(std::string_view path, std::span<const float> scores) const;
  [[nodiscard]] std::string error_row(std::string_view path, std::string_view error) const;

  [[nodiscard]] OutputFormat format() const { return format_; }

 private:
  [[nodiscard]] std::vector<std::size_t> predicted(std::span<const float> scores) const;

  OutputFormat format_;
  std::vector<std::string> labels_;
  OutputActivation activation_;
  double threshold_;
};

// RFC 4180 field: quoted when it holds ',', '"', CR or LF.
std::string csv_field(std::string_view text);

}  // namespace pt2onnx::infer
