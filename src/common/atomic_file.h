// Writing outputs so that a path only ever holds the old file or the complete
// new one: the bytes go to a temporary file beside the target, which is synced,
// optionally checked, and renamed over the target, and the directory is synced.
// On any failure before the rename the temporary is removed and whatever was at
// the path is left untouched. Every command that writes a file uses this.
//
// What the output path names decides how it is written:
//   - nothing yet, or a regular file: replaced atomically, as above;
//   - a symbolic link: its final target is replaced atomically (beside the
//     target, in the target's folder), and the link stays a link;
//   - a FIFO, a character device (a terminal, /dev/null) or "-" (standard
//     output): the complete, checked content is written into it, from a
//     temporary file in $TMPDIR; nothing is replaced;
//   - a directory, a block device or a socket: refused (Error(Usage)).
//
// Interruptions: SIGINT, SIGTERM and SIGHUP remove every temporary file the
// process has open before it dies of the signal. A temporary left by SIGKILL
// or a power cut (".NAME.tmp-XXXXXX" beside NAME) is recognised by the next
// write to the same output, because no process holds its lock, and removed
// with a note on stderr.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string_view>

namespace pt2onnx {

// Runs on the complete, synced temporary file just before the rename (where a
// written model can be loaded and verified); throwing aborts the write.
using BeforeCommit = std::function<void(const std::filesystem::path& temp_path)>;

class AtomicFile {
 public:
  // Error(Usage) when the path names no file or something that cannot be
  // written (above), Error(Io) when its directory does not exist or the
  // temporary cannot be created.
  explicit AtomicFile(std::filesystem::path target);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::span<const std::byte> bytes);
  [[nodiscard]] std::uint64_t position() const { return position_; }
  [[nodiscard]] int fd() const { return fd_; }  // for writers that stream to a descriptor
  [[nodiscard]] const std::filesystem::path& temp_path() const { return temp_; }

  // Give the file the mode a plain create (or the replaced file) has, sync it
  // while `before_commit` runs, then rename into place and sync the directory.
  void commit(const BeforeCommit& before_commit = {});

 private:
  void stream_into_target();

  std::filesystem::path target_;       // as the user gave it, for messages
  std::filesystem::path destination_;  // what is written: the link's target, or the target
  bool streamed_ = false;              // a FIFO, character device or standard output
  std::filesystem::path temp_;
  int fd_ = -1;
  int temp_slot_ = -1;  // in the registry the signal handler cleans up
  std::uint64_t position_ = 0;
  bool done_ = false;
};

// `body` writes the whole content to the descriptor; throwing aborts the write.
using WriteBody = std::function<void(int fd)>;
void write_file_atomically(const std::filesystem::path& target, const WriteBody& body,
                           const BeforeCommit& before_commit = {});
void write_file_atomically(const std::filesystem::path& target, std::span<const std::byte> content);
void write_file_atomically(const std::filesystem::path& target, std::string_view content);

// The checks AtomicFile starts with, for callers that want to fail before doing
// expensive work.
void check_output_path(const std::filesystem::path& output);

// "-" as an output path: standard output.
bool is_standard_output(const std::filesystem::path& output);

// For a command whose output is "-" and which prints progress: from here on
// its messages on standard output go to standard error, and "-" writes to the
// original standard output, which then carries the data alone.
void keep_standard_output_for_data();

// Error(Usage) when `output` names the same file as `input` (by identity:
// hard links, symlinks and ../ spellings count), which writing would destroy;
// `what` says what the input is ("input checkpoint", "model").
void refuse_overwriting_input(const std::filesystem::path& output, const std::filesystem::path& input,
                              std::string_view what);

}  // namespace pt2onnx
