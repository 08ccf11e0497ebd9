#include "infer/resume.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "pt2onnx/error.h"

namespace fs = std::filesystem;

namespace pt2onnx::infer {
namespace {

// Reads CSV records one at a time (quotes may hold commas and line breaks)
// and keeps the first field of each.
class CsvRecordReader {
 public:
  explicit CsvRecordReader(std::istream& in) : in_(in) {}

  // The next complete record's text and first field; false at the end or
  // when the last record has no terminating line break.
  bool next(std::string& record, std::string& first_field) {
    record.clear();
    first_field.clear();
    bool quoted = false;
    bool in_first = true;
    char c = 0;
    while (in_.get(c)) {
      ++offset_;
      if (c == '"') {
        // A doubled quote inside quotes is a literal quote.
        if (quoted && in_.peek() == '"') {
          in_.get(c);
          ++offset_;
          record += "\"\"";
          if (in_first) first_field += '"';
          continue;
        }
        quoted = !quoted;
        record += c;
        continue;
      }
      if (!quoted && c == '\n') {
        if (!record.empty() && record.back() == '\r') record.pop_back();
        complete_end_ = offset_;
        return true;
      }
      record += c;
      if (!quoted && c == ',') in_first = false;
      if (in_first && (quoted || c != '\r')) first_field += c;
    }
    return false;
  }

  // Bytes up to the end of the last complete record.
  [[nodiscard]] std::uintmax_t complete_end() const { return complete_end_; }

 private:
  std::istream& in_;
  std::uintmax_t offset_ = 0;
  std::uintmax_t complete_end_ = 0;
};

void truncate_to(const fs::path& output, std::uintmax_t size) {
  std::error_code ec;
  if (fs::file_size(output, ec) == size) return;
  fs::resize_file(output, size, ec);
  if (ec) throw_error(ErrorKind::Io, fmt::format("cannot cut the unfinished last row: {}", ec.message()));
}

}  // namespace

namespace {

struct Scan {
  ResumeState state;
  std::uintmax_t complete_end = 0;  // bytes up to the end of the last complete row
};

// `expected_header` null: any CSV header is accepted.
Scan scan_output(const fs::path& output, OutputFormat format, const std::string* expected_header) {
  Scan scan;
  std::ifstream in(output, std::ios::binary);
  if (!in) throw_error(ErrorKind::Io, fmt::format("cannot open for --resume: {}", std::strerror(errno)));
  if (format == OutputFormat::Csv) {
    CsvRecordReader reader(in);
    std::string record;
    std::string first;
    bool header_seen = false;
    while (reader.next(record, first)) {
      if (!header_seen) {
        if (expected_header != nullptr) {
          std::string want = *expected_header;
          if (!want.empty() && want.back() == '\n') want.pop_back();
          if (record != want) {
            throw_error(ErrorKind::Usage, fmt::format("its header '{}' is not this run's '{}' (another model, labels "
                                                      "or format?)",
                                                      record, want));
          }
        }
        header_seen = true;
        continue;
      }
      scan.state.done.insert(first);
    }
    scan.complete_end = reader.complete_end();
    scan.state.needs_header = !header_seen;
    return scan;
  }
  std::string line;
  std::size_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (in.eof()) break;  // no line break after it: an unfinished row
    scan.complete_end += line.size() + 1;
    if (line.empty()) continue;
    const auto json = nlohmann::json::parse(line, nullptr, false);
    if (!json.is_object() || !json.contains("path") || !json["path"].is_string()) {
      throw_error(ErrorKind::BadInput, fmt::format("line {} is not a row of pt2onnx infer", line_number));
    }
    scan.state.done.insert(json["path"].get<std::string>());
  }
  scan.state.needs_header = false;
  return scan;
}

}  // namespace

ResumeState prepare_resume(const fs::path& output, OutputFormat format, const std::string& expected_header) {
  return with_error_context("output " + output.string(), [&] {
    std::error_code ec;
    if (!fs::exists(output, ec)) return ResumeState{};
    Scan scan = scan_output(output, format, &expected_header);
    truncate_to(output, scan.complete_end);
    return std::move(scan.state);
  });
}

std::unordered_set<std::string> read_done_paths(const fs::path& output, OutputFormat format) {
  return with_error_context("output " + output.string(), [&] {
    std::error_code ec;
    if (!fs::exists(output, ec)) return std::unordered_set<std::string>{};
    return std::move(scan_output(output, format, nullptr).state.done);
  });
}

}  // namespace pt2onnx::infer
