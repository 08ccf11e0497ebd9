#include "common/atomic_file.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include "pt2onnx/error.h"
#include "support/temp_dir.h"

namespace pt2onnx {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class AtomicFile : public ::testing::Test {
 protected:
  std::size_t entries() const { return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir_), {})); }
  pt2onnx::testing::TempDir temp_;
  const fs::path& dir_ = temp_.path();
};

TEST_F(AtomicFile, WritesAndReplaces) {
  write_file_atomically(dir_ / "out.bin", "first");
  write_file_atomically(dir_ / "out.bin", "second");
  EXPECT_EQ(slurp(dir_ / "out.bin"), "second");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(AtomicFile, FailedWriteKeepsTheOldFileAndLeavesNoTemporary) {
  write_file_atomically(dir_ / "out.bin", "old content");
  EXPECT_THROW(write_file_atomically(dir_ / "out.bin",
                                     [](int fd) {
                                       EXPECT_EQ(::write(fd, "half of the new", 15), 15);
                                       throw std::runtime_error("interrupted");
                                     }),
               std::runtime_error);
  EXPECT_EQ(slurp(dir_ / "out.bin"), "old content");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(AtomicFile, MissingDirectoryIsAClearError) {
  try {
    write_file_atomically(dir_ / "no" / "such" / "out.bin", "x");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Io);
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos);
  }
}

}  // namespace
}  // namespace pt2onnx
