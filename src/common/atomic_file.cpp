#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <future>
#include <mutex>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx {
namespace fs = std::filesystem;
namespace {

// Where "-" writes; keep_standard_output_for_data() moves it.
std::atomic<int> g_data_fd{STDOUT_FILENO};

// The temporaries open in this process, for the signal handler: fixed slots
// of plain bytes, because a handler may only make async-signal-safe calls.
// A slot is 0 free, 1 being filled, 2 holding a path to remove.
struct TempSlot {
  std::atomic<int> state{0};
  std::array<char, 4096> path{};
};
std::array<TempSlot, 64> g_temp_slots;

extern "C" void remove_temporaries_and_die(int sig) {
  for (auto& slot : g_temp_slots) {
    if (slot.state.load() == 2) ::unlink(slot.path.data());
  }
  // Die of the signal, as without the handler: the shell sees 128 + sig.
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Installed once, and only over the default action: a signal the process
// ignores (nohup) or handles itself keeps its disposition.
void install_signal_cleanup() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
      struct sigaction old {};
      if (::sigaction(sig, nullptr, &old) != 0 || old.sa_handler != SIG_DFL) continue;
      struct sigaction action {};
      action.sa_handler = remove_temporaries_and_die;
      sigemptyset(&action.sa_mask);
      ::sigaction(sig, &action, nullptr);
    }
  });
}

int register_temporary(const fs::path& path) {
  install_signal_cleanup();
  const std::string& text = path.native();
  for (std::size_t i = 0; i < g_temp_slots.size(); ++i) {
    auto& slot = g_temp_slots[i];
    int expected = 0;
    if (text.size() >= slot.path.size() || !slot.state.compare_exchange_strong(expected, 1)) continue;
    std::memcpy(slot.path.data(), text.c_str(), text.size() + 1);
    slot.state.store(2);
    return static_cast<int>(i);
  }
  return -1;  // more open at once than slots: that one is not cleaned up on a signal
}

void unregister_temporary(int slot) {
  if (slot >= 0) g_temp_slots[static_cast<std::size_t>(slot)].state.store(0);
}

std::string temp_prefix(const fs::path& destination) { return "." + destination.filename().string() + ".tmp-"; }

// Temporaries of earlier runs on the same output that no live process holds
// (each run keeps an exclusive flock on its own until the rename): left by
// SIGKILL or a power cut. Removed, with a note. A temporary younger than a
// few seconds is left alone: its creator may not have locked it yet.
void remove_stale_temporaries(const fs::path& destination) {
  const fs::path dir = destination.parent_path().empty() ? fs::path(".") : destination.parent_path();
  const std::string prefix = temp_prefix(destination);
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() != prefix.size() + 6 || !name.starts_with(prefix)) continue;
    const int fd = ::open(it->path().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) continue;
    struct stat st {};
    const bool old_enough = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && std::time(nullptr) - st.st_mtime >= 5;
    if (old_enough && ::flock(fd, LOCK_EX | LOCK_NB) == 0 && ::unlink(it->path().c_str()) == 0) {
      std::fprintf(stderr, "pt2onnx: removed %s, a temporary file that an interrupted run left\n", it->path().c_str());
    }
    ::close(fd);
  }
}

const char* kind_name(fs::file_type type) {
  switch (type) {
    case fs::file_type::block:
      return "a block device";
    case fs::file_type::socket:
      return "a socket";
    default:
      return "not a file pt2onnx can write";
  }
}

struct ResolvedOutput {
  fs::path path;  // the file to write: the target of a symbolic link
  bool streamed = false;
};

// What the output path names, links followed (see atomic_file.h).
ResolvedOutput resolve_output(const fs::path& output) {
  if (is_standard_output(output)) return {output, true};
  if (output.filename().empty() || output.filename() == "." || output.filename() == "..") {
    throw_error(ErrorKind::Usage, fmt::format("output path {} names no file", output.string()));
  }
  std::error_code ec;
  fs::path path = output;
  for (int links = 0; fs::is_symlink(fs::symlink_status(path, ec)); ++links) {
    if (links == 40) {
      throw_error(ErrorKind::Usage, fmt::format("output path {}: too many levels of symbolic links", output.string()));
    }
    const fs::path next = fs::read_symlink(path, ec);
    if (ec) throw_error(ErrorKind::Io, fmt::format("cannot read the link {}: {}", path.string(), ec.message()));
    path = next.is_absolute() ? next : path.parent_path() / next;
  }
  const auto type = fs::status(path, ec).type();
  switch (type) {
    case fs::file_type::not_found:
    case fs::file_type::regular:
      break;
    case fs::file_type::directory:
      throw_error(ErrorKind::Usage, fmt::format("output path {} is a directory", output.string()));
    case fs::file_type::fifo:
    case fs::file_type::character:
      return {path, true};
    default:
      throw_error(ErrorKind::Usage,
                  fmt::format("output path {} is {}; pt2onnx replaces regular files and writes into FIFOs and "
                              "character devices",
                              output.string(), kind_name(type)));
  }
  const auto dir = path.parent_path();
  if (!dir.empty() && !fs::is_directory(dir, ec)) {
    throw_error(ErrorKind::Io,
                fmt::format("cannot write {}: directory {} does not exist", output.string(), dir.string()));
  }
  return {path, false};
}

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

void check_output_path(const fs::path& output) { resolve_output(output); }

bool is_standard_output(const fs::path& output) { return output == "-"; }

void keep_standard_output_for_data() {
  std::fflush(stdout);
  const int data = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (data < 0) throw_error(ErrorKind::Io, fmt::format("cannot keep standard output: {}", std::strerror(errno)));
  if (::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    throw_error(ErrorKind::Io, fmt::format("cannot move messages to standard error: {}", std::strerror(errno)));
  }
  g_data_fd = data;
}

AtomicFile::AtomicFile(fs::path target) : target_(std::move(target)) {
  const ResolvedOutput resolved = resolve_output(target_);
  destination_ = resolved.path;
  streamed_ = resolved.streamed;
  // A streamed output gets its complete content at commit; until then it is
  // kept in $TMPDIR. A file is replaced from a temporary beside it (the same
  // file system, so the rename is atomic).
  fs::path dir;
  std::string name;
  if (streamed_) {
    std::error_code ec;
    dir = fs::temp_directory_path(ec);
    if (ec) dir = "/tmp";
    name = fmt::format("pt2onnx-{}.tmp-XXXXXX",
                       is_standard_output(target_) ? std::string("stdout") : destination_.filename().string());
  } else {
    dir = destination_.parent_path().empty() ? fs::path(".") : destination_.parent_path();
    remove_stale_temporaries(destination_);
    name = temp_prefix(destination_) + "XXXXXX";
  }
  // As mkstemp does, but the name is registered for the signal handler before
  // the file exists: a signal that arrives once the file is there removes it.
  static constexpr std::string_view kLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 random(std::random_device{}() ^ static_cast<std::uint64_t>(::getpid()));
  int error = EEXIST;
  for (int attempt = 0; attempt < 100 && fd_ < 0 && error == EEXIST; ++attempt) {
    std::string candidate = name.substr(0, name.size() - 6);
    for (int i = 0; i < 6; ++i) candidate += kLetters[random() % kLetters.size()];
    temp_ = dir / candidate;
    temp_slot_ = register_temporary(temp_);
    fd_ = ::open(temp_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    error = fd_ < 0 ? errno : 0;
    if (fd_ < 0) {
      unregister_temporary(temp_slot_);
      temp_slot_ = -1;
    }
  }
  if (fd_ < 0) {
    throw_error(ErrorKind::Io, fmt::format("cannot write {}: cannot create a temporary file in {}: {}",
                                           target_.string(), dir.string(), std::strerror(error)));
  }
  // Held until the rename: a later run that finds this file unlocked knows it was left behind.
  ::flock(fd_, LOCK_EX | LOCK_NB);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!done_ || streamed_) ::unlink(temp_.c_str());
  unregister_temporary(temp_slot_);
}

void AtomicFile::write(std::span<const std::byte> bytes) {
  std::size_t written = 0;
  while (written < bytes.size()) {
    const auto n = ::write(fd_, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_error(ErrorKind::Io, fmt::format("cannot write {}: {} (while writing its temporary file {})",
                                             target_.string(), std::strerror(errno), temp_.string()));
    }
    written += static_cast<std::size_t>(n);
  }
  position_ += bytes.size();
}

void AtomicFile::stream_into_target() {
  const bool to_stdout = is_standard_output(target_);
  // O_WRONLY without O_CREAT or O_TRUNC: a FIFO waits for its reader, a device is written as it is.
  const int out = to_stdout ? g_data_fd.load() : ::open(destination_.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (out < 0) throw_errno("open", target_, errno);
  std::vector<char> buffer(1 << 20);
  off_t offset = 0;
  int error = 0;
  while (error == 0) {
    const auto n = ::pread(fd_, buffer.data(), buffer.size(), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n < 0 ? errno : 0;
      break;
    }
    offset += n;
    for (ssize_t done = 0; done < n && error == 0;) {
      const auto w = ::write(out, buffer.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno != EINTR) error = errno;
      if (w > 0) done += w;
    }
  }
  if (!to_stdout && ::close(out) != 0 && error == 0) error = errno;
  if (error != 0) throw_errno("write", to_stdout ? fs::path("standard output") : target_, error);
}

void AtomicFile::commit(const BeforeCommit& before_commit) {
  if (streamed_) {
    if (before_commit) before_commit(temp_);
    stream_into_target();
    done_ = true;
    return;
  }
  if (::fchmod(fd_, mode_for(destination_)) != 0) throw_errno("set the mode of", temp_, errno);
  // The flush to disk waits on the device (and, on a journalling file
  // system, on other files' dirty data): it runs while the hook reads the
  // complete file from the page cache, and the rename waits for it. On a
  // throw the future's destructor waits for it before the file is removed.
  auto flushed = std::async(std::launch::async, [fd = fd_] { return ::fsync(fd) == 0 ? 0 : errno; });
  if (before_commit) before_commit(temp_);
  if (const int error = flushed.get(); error != 0) {
    throw_error(ErrorKind::Io, fmt::format("cannot write {}: {} (while flushing its temporary file {})",
                                           target_.string(), std::strerror(error), temp_.string()));
  }
  // Renamed while still open and locked, so that no other run takes it for a leftover.
  if (::rename(temp_.c_str(), destination_.c_str()) != 0) {
    throw_errno("rename the temporary file onto", destination_, errno);
  }
  done_ = true;
  ::close(fd_);
  fd_ = -1;
  sync_directory(destination_.parent_path());
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
