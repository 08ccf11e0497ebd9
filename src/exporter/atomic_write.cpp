#include "exporter/atomic_write.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include <fmt/format.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>

#include "common/error.h"

namespace pt2onnx::exporter {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void throw_errno(const std::string& what, const fs::path& path, int err) {
  throw_error(ErrorKind::Io, fmt::format("cannot {} {}: {}", what, path.string(), std::strerror(err)));
}

// The new file gets the mode an ordinary create would give it (mkstemp's 0600
// would make an exported model unreadable to others), or the mode of the file
// it replaces.
mode_t mode_for(const fs::path& output) {
  struct stat st {};
  if (::stat(output.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return st.st_mode & 07777;
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return static_cast<mode_t>(0666 & ~mask);
}

// Owns the temporary file until commit(): closes the descriptor and unlinks the
// file if anything throws before the rename.
class TempFile {
 public:
  explicit TempFile(const fs::path& output) {
    auto pattern = (output.parent_path() / fmt::format(".{}.tmp-XXXXXX", output.filename().string())).string();
    fd_ = ::mkstemp(pattern.data());
    if (fd_ < 0) throw_errno("create a temporary file in", output.parent_path().empty() ? "." : output.parent_path(), errno);
    path_ = pattern;
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    close();
    if (!committed_) ::unlink(path_.c_str());
  }

  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] const fs::path& path() const { return path_; }

  void sync_and_close(mode_t mode) {
    if (::fchmod(fd_, mode) != 0) throw_errno("set the mode of", path_, errno);
    if (::fsync(fd_) != 0) throw_errno("flush", path_, errno);
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw_errno("close", path_, errno);
  }

  void commit(const fs::path& output) {
    if (::rename(path_.c_str(), output.c_str()) != 0) throw_errno("rename the temporary file onto", output, errno);
    committed_ = true;
  }

 private:
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  int fd_ = -1;
  fs::path path_;
  bool committed_ = false;
};

// Makes the rename itself durable. Failure here is not fatal: the file is complete
// and in place; only its survival of a power cut right now is in doubt.
void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void refuse_same_file(const fs::path& output, const fs::path& input) {
  std::error_code ec;
  if (fs::equivalent(output, input, ec) && !ec) {
    throw_error(ErrorKind::Usage, fmt::format("the output {} is the input checkpoint {}; choose another output path",
                                              output.string(), input.string()));
  }
}

void check_protobuf_size(std::uint64_t bytes, std::uint64_t limit) {
  if (bytes > limit) {
    throw_error(ErrorKind::ExportFailed,
                fmt::format("the model is {} bytes, over the {} byte limit of a single protobuf ONNX file; pt2onnx "
                            "does not write ONNX external data, so models this large cannot be exported",
                            bytes, limit));
  }
}

void check_output_path(const fs::path& output) {
  if (output.filename().empty()) throw_error(ErrorKind::Usage, fmt::format("output path {} names no file", output.string()));
  std::error_code ec;
  if (fs::is_directory(output, ec)) {
    throw_error(ErrorKind::Usage, fmt::format("output path {} is a directory", output.string()));
  }
  const auto dir = output.parent_path();
  if (!dir.empty() && !fs::is_directory(dir, ec)) {
    throw_error(ErrorKind::Io, fmt::format("cannot write {}: directory {} does not exist", output.string(), dir.string()));
  }
}

void write_file_atomically(const fs::path& output, const WriteBody& body, const BeforeCommit& before_commit) {
  check_output_path(output);
  const auto dir = output.parent_path();
  TempFile temp(output);
  body(temp.fd());
  temp.sync_and_close(mode_for(output));
  if (before_commit) before_commit(temp.path());
  temp.commit(output);
  sync_directory(dir);
}

void write_model(const onnx::ModelProto& model, const fs::path& output, const std::optional<fs::path>& source_checkpoint,
                 const BeforeCommit& before_commit) {
  if (source_checkpoint) refuse_same_file(output, *source_checkpoint);
  check_protobuf_size(model.ByteSizeLong());
  write_file_atomically(
      output,
      [&](int fd) {
        // Streams straight to the file: no second in-memory copy of the weights.
        google::protobuf::io::FileOutputStream stream(fd);
        if (!model.SerializeToZeroCopyStream(&stream) || !stream.Flush()) {
          throw_error(ErrorKind::Io, fmt::format("cannot write {}: {}", output.string(),
                                                 stream.GetErrno() != 0 ? std::strerror(stream.GetErrno()) : "serialization failed"));
        }
      },
      before_commit);
}

}  // namespace pt2onnx::exporter
