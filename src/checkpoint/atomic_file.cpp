#include "checkpoint/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"

namespace pt2onnx::checkpoint {

AtomicFile::AtomicFile(std::filesystem::path target) : target_(std::move(target)) {
  const auto dir = target_.has_parent_path() ? target_.parent_path() : std::filesystem::path(".");
  std::string pattern = (dir / fmt::format(".{}.tmp.XXXXXX", target_.filename().string())).string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  fd_ = ::mkstemp(buf.data());
  if (fd_ < 0) {
    throw_error(ErrorKind::Io,
                fmt::format("cannot create a temporary file in {}: {}", dir.string(), std::strerror(errno)));
  }
  temp_ = buf.data();
  // mkstemp makes the file private (0600); give it the permissions a plain create would.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd_, static_cast<mode_t>(0666 & ~mask));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temp_.c_str());
  }
}

void AtomicFile::write(std::span<const std::byte> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const auto n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_error(ErrorKind::Io, fmt::format("cannot write {}: {}", temp_.string(), std::strerror(errno)));
    }
    done += static_cast<std::size_t>(n);
  }
  position_ += bytes.size();
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) {
    throw_error(ErrorKind::Io, fmt::format("cannot flush {}: {}", temp_.string(), std::strerror(errno)));
  }
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp_.c_str());
    throw_error(ErrorKind::Io, fmt::format("cannot close {}: {}", temp_.string(), std::strerror(err)));
  }
  if (std::rename(temp_.c_str(), target_.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp_.c_str());
    throw_error(ErrorKind::Io,
                fmt::format("cannot rename {} to {}: {}", temp_.string(), target_.string(), std::strerror(err)));
  }
}

}  // namespace pt2onnx::checkpoint
