#include "common/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <random>

#include <fmt/format.h>

#include "common/error.h"

namespace pt2onnx {
namespace {

// Removes the temporary file unless released after the rename.
class TempFileGuard {
 public:
  explicit TempFileGuard(std::filesystem::path path) : path_(std::move(path)) {}
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  ~TempFileGuard() {
    if (!released_) {
      std::error_code ec;
      std::filesystem::remove(path_, ec);
    }
  }
  void release() { released_ = true; }

 private:
  std::filesystem::path path_;
  bool released_ = false;
};

void fsync_path(const std::filesystem::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return;  // best effort: a directory that cannot be opened still gets the rename
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_file_atomically(const std::filesystem::path& target, const std::function<void(std::ostream&)>& write) {
  const auto dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw Error(ErrorKind::Io, fmt::format("cannot write {}: directory {} does not exist", target.string(), dir.string()));
  }
  std::random_device rd;
  const auto temp = dir / fmt::format(".{}.tmp-{:08x}", target.filename().string(), rd());
  TempFileGuard guard(temp);
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(ErrorKind::Io, fmt::format("cannot create {} in {}", temp.filename().string(), dir.string()));
    write(out);
    out.flush();
    if (!out) throw Error(ErrorKind::Io, fmt::format("writing {} failed (disk full?)", target.string()));
  }
  fsync_path(temp, O_RDONLY);
  std::filesystem::rename(temp, target, ec);
  if (ec) throw Error(ErrorKind::Io, fmt::format("cannot rename into {}: {}", target.string(), ec.message()));
  guard.release();
  fsync_path(dir, O_RDONLY | O_DIRECTORY);
}

void write_file_atomically(const std::filesystem::path& target, std::string_view content) {
  write_file_atomically(target, [&](std::ostream& out) { out.write(content.data(), static_cast<std::streamsize>(content.size())); });
}

}  // namespace pt2onnx
