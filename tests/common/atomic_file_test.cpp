#include "common/atomic_file.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include "common/error.h"

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
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pt2onnx_atomic_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::size_t entries() const { return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir_), {})); }
  fs::path dir_;
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
                                     [](std::ostream& out) {
                                       out << "half of the new";
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
