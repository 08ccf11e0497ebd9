#include "infer/input_walker.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace fs = std::filesystem;

namespace pt2onnx::infer {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool has_dicom_magic(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::array<char, 132> head{};
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  return in.gcount() == static_cast<std::streamsize>(head.size()) && std::memcmp(head.data() + 128, "DICM", 4) == 0;
}

}  // namespace

bool is_image_file(const fs::path& path) {
  const std::string ext = lower(path.extension().string());
  if (ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".dcm" || ext == ".dicom") return true;
  return ext.empty() && has_dicom_magic(path);
}

InputWalker::InputWalker(std::vector<std::string> arguments) : arguments_(std::move(arguments)) {}
InputWalker::~InputWalker() = default;

std::optional<InputItem> InputWalker::next() {
  while (true) {
    if (!stack_.empty()) {
      if (auto item = next_from_directories()) return item;
      continue;  // the walk ended; go on with the list or the arguments
    }
    if (list_) {
      std::string line;
      if (std::getline(*list_, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        if (auto item = start_path(line)) return item;
        continue;
      }
      if (list_->bad()) throw_error(ErrorKind::Io, fmt::format("list {}: read failed", list_name_));
      list_.reset();
      continue;
    }
    if (next_argument_ >= arguments_.size()) return std::nullopt;
    const std::string& argument = arguments_[next_argument_++];
    if (argument.size() > 1 && argument.front() == '@') {
      list_name_ = argument.substr(1);
      list_ = std::make_unique<std::ifstream>(list_name_);
      if (!*list_) {
        list_.reset();
        throw_error(ErrorKind::Io, fmt::format("list {}: cannot open: {}", list_name_, std::strerror(errno)));
      }
      continue;
    }
    if (auto item = start_path(argument)) return item;
  }
}

std::optional<InputItem> InputWalker::start_path(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return open_directory(path);
  return InputItem{path, {}};
}

std::optional<InputItem> InputWalker::open_directory(const fs::path& dir) {
  Directory d;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) d.entries.push_back(it->path());
  if (ec) return InputItem{dir.string(), fmt::format("cannot list directory: {}", ec.message())};
  // Byte order of the names, not locale collation, so every machine agrees.
  std::sort(d.entries.begin(), d.entries.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename().string() < b.filename().string(); });
  stack_.push_back(std::move(d));
  return std::nullopt;
}

std::optional<InputItem> InputWalker::next_from_directories() {
  while (!stack_.empty()) {
    Directory& top = stack_.back();
    if (top.next >= top.entries.size()) {
      stack_.pop_back();
      continue;
    }
    const fs::path entry = top.entries[top.next++];
    std::error_code ec;
    const fs::file_status link = fs::symlink_status(entry, ec);
    if (ec) continue;  // vanished since listing
    if (fs::is_directory(link)) {
      if (auto error = open_directory(entry)) return error;
      continue;  // `top` may dangle now; loop re-reads the stack
    }
    if (fs::is_symlink(link) && fs::is_directory(entry, ec)) continue;
    if (fs::is_regular_file(entry, ec) && is_image_file(entry)) return InputItem{entry.string(), {}};
  }
  return std::nullopt;
}

Shard parse_shard(const std::string& text) {
  const auto bad = [&] {
    throw_error(ErrorKind::Usage, fmt::format("--shard '{}' is not K/N with 1 <= K <= N (as 3/8)", text));
  };
  const std::size_t slash = text.find('/');
  if (slash == std::string::npos) bad();
  Shard shard;
  const char* begin = text.data();
  const char* mid = begin + slash;
  const char* end = begin + text.size();
  const auto k = std::from_chars(begin, mid, shard.index);
  const auto n = std::from_chars(mid + 1, end, shard.count);
  if (k.ec != std::errc() || k.ptr != mid || n.ec != std::errc() || n.ptr != end) bad();
  if (shard.count < 1 || shard.index < 1 || shard.index > shard.count) bad();
  return shard;
}

}  // namespace pt2onnx::infer
