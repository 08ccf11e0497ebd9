#include "checkpoint/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx::checkpoint {

InputFile::InputFile(const std::filesystem::path& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw_error(ErrorKind::Io, fmt::format("cannot open: {}", std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    ::close(fd_);
    throw_error(ErrorKind::Io, fmt::format("cannot stat: {}", std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw_error(ErrorKind::Io, "not a regular file");
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

void InputFile::read_at(std::uint64_t offset, std::span<std::byte> out) const {
  if (offset > size_ || out.size() > size_ - offset) {
    throw_error(ErrorKind::BadInput,
                fmt::format("truncated: {} bytes needed at offset {}, the file has {}", out.size(), offset, size_));
  }
  std::size_t done = 0;
  while (done < out.size()) {
    const auto n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_error(ErrorKind::Io, fmt::format("read error at offset {}: {}", offset + done, std::strerror(errno)));
    }
    if (n == 0) {
      throw_error(ErrorKind::BadInput, fmt::format("file ended at offset {} while reading", offset + done));
    }
    done += static_cast<std::size_t>(n);
  }
}

std::vector<std::byte> InputFile::read_prefix(std::size_t n) const {
  std::vector<std::byte> out(static_cast<std::size_t>(std::min<std::uint64_t>(n, size_)));
  read_at(0, out);
  return out;
}

std::vector<std::byte> InputFile::read_all() const {
  std::vector<std::byte> out(static_cast<std::size_t>(size_));
  read_at(0, out);
  return out;
}

}  // namespace pt2onnx::checkpoint
