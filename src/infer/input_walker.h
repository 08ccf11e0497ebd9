// The stream of image paths `pt2onnx infer` processes, produced lazily so that
// a list of millions of files is never held in memory at once.
//
// Each argument, in the order given, is
//   @FILE      a list: one path per line (empty lines skipped); each listed
//              path is treated like an argument (so directories expand), but
//              lines are never read as further @lists;
//   DIRECTORY  walked depth-first, entries of each directory in byte order of
//              their names; image files only: extensions .jpg .jpeg .png .dcm
//              .dicom (any case), and files with no extension whose bytes
//              128..131 are "DICM". Symbolic links to files are followed,
//              links to directories are not (no cycles);
//   anything else  taken as one image path, whatever its name; a missing
//              file becomes an error row, not a failed run.
// The order is deterministic for the same file tree, which is what --shard
// relies on.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pt2onnx::infer {

struct InputItem {
  std::string path;
  std::string error;  // set when the item could not be enumerated (an unreadable directory)
};

// True for the image file names a directory walk keeps (reads the first 132
// bytes only for names without an extension).
bool is_image_file(const std::filesystem::path& path);

class InputWalker {
 public:
  explicit InputWalker(std::vector<std::string> arguments);
  ~InputWalker();
  InputWalker(const InputWalker&) = delete;
  InputWalker& operator=(const InputWalker&) = delete;

  // The next input, or nullopt at the end. Error(Io) when an @list cannot be opened.
  std::optional<InputItem> next();

 private:
  struct Directory {
    std::vector<std::filesystem::path> entries;  // sorted
    std::size_t next = 0;
  };

  // Expands a path named by an argument or a list line.
  std::optional<InputItem> start_path(const std::string& path);
  std::optional<InputItem> open_directory(const std::filesystem::path& dir);
  std::optional<InputItem> next_from_directories();

  std::vector<std::string> arguments_;
  std::size_t next_argument_ = 0;
  std::unique_ptr<std::ifstream> list_;
  std::string list_name_;
  std::vector<Directory> stack_;
};

// --shard K/N: 1-based K of N shares.
struct Shard {
  std::int64_t index = 1;
  std::int64_t count = 1;
  // The i-th input (0-based, over the whole stream) belongs to shard
  // (i mod N) + 1: every input in exactly one shard, shares within one of each other.
  [[nodiscard]] bool owns(std::int64_t position) const { return position % count == index - 1; }
};

// "K/N" with 1 <= K <= N; Error(Usage) otherwise.
Shard parse_shard(const std::string& text);

}  // namespace pt2onnx::infer
