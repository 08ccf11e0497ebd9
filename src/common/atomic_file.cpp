#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void throw_errno(const std::string& what, const fs::path& path, int err) {
  throw_error(ErrorKind::Io, fmt::format("cannot {} {}: {}", what, path.string(), std::strerror(err)));
}

// The mode an ordinary create would give (mkstemp's 0600 would make an exported
// model unreadable to others), or the mode of the file being replaced.
mode_t mode_for(const fs::path& target) {
  struct stat st {};
  if (::stat(target.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return st.st_mode & 07777;
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return static_cast<mode_t>(0666 & ~mask);
}

// Makes the rename itself durable. Failure here is not fatal: the file is
// complete and in place; only its survival of a power cut right now is in doubt.
void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void refuse_overwriting_input(const fs::path& output, const fs::path& input, std::string_view what) {
  std::error_code ec;
  if (fs::equivalent(output, input, ec) && !ec) {
    throw_error(ErrorKind::Usage, fmt::format("the output {} is the {} {}; choose another output path", output.string(),
                                              what, input.string()));
  }
}

void check_output_path(const fs::path& output) {
  if (output.filename().empty())
    throw_error(ErrorKind::Usage, fmt::format("output path {} names no file", output.string()));
  std::error_code ec;
  if (fs::is_directory(output, ec)) {
    throw_error(ErrorKind::Usage, fmt::format("output path {} is a directory", output.string()));
  }
  const auto dir = output.parent_path();
  if (!dir.empty() && !fs::is_directory(dir, ec)) {
    throw_error(ErrorKind::Io,
                fmt::format("cannot write {}: directory {} does not exist", output.string(), dir.string()));
  }
}

AtomicFile::AtomicFile(fs::path target) : target_(std::move(target)) {
  check_output_path(target_);
  const auto dir = target_.parent_path();
  std::string pattern =
      ((dir.empty() ? fs::path(".") : dir) / fmt::format(".{}.tmp-XXXXXX", target_.filename().string())).string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  fd_ = ::mkstemp(buf.data());
  if (fd_ < 0) throw_errno("create a temporary file in", dir.empty() ? fs::path(".") : dir, errno);
  temp_ = buf.data();
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!done_) ::unlink(temp_.c_str());
}

void AtomicFile::write(std::span<const std::byte> bytes) {
  std::size_t written = 0;
  while (written < bytes.size()) {
    const auto n = ::write(fd_, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("write", temp_, errno);
    }
    written += static_cast<std::size_t>(n);
  }
  position_ += bytes.size();
}

void AtomicFile::commit(const BeforeCommit& before_commit) {
  if (::fchmod(fd_, mode_for(target_)) != 0) throw_errno("set the mode of", temp_, errno);
  // The flush to disk waits on the device (and, on a journalling file
  // system, on other files' dirty data): it runs while the hook reads the
  // complete file from the page cache, and the rename waits for it. On a
  // throw the future's destructor waits for it before the file is removed.
  auto flushed = std::async(std::launch::async, [fd = fd_] { return ::fsync(fd) == 0 ? 0 : errno; });
  if (before_commit) before_commit(temp_);
  if (const int error = flushed.get(); error != 0) throw_errno("flush", temp_, error);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw_errno("close", temp_, errno);
  if (::rename(temp_.c_str(), target_.c_str()) != 0) throw_errno("rename the temporary file onto", target_, errno);
  done_ = true;
  sync_directory(target_.parent_path());
}

void write_file_atomically(const fs::path& target, const WriteBody& body, const BeforeCommit& before_commit) {
  AtomicFile file(target);
  body(file.fd());
  file.commit(before_commit);
}

void write_file_atomically(const fs::path& target, std::span<const std::byte> content) {
  AtomicFile file(target);
  file.write(content);
  file.commit();
}

void write_file_atomically(const fs::path& target, std::string_view content) {
  write_file_atomically(target, std::as_bytes(std::span<const char>(content.data(), content.size())));
}

}  // namespace pt2onnx
