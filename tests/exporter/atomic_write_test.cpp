#include "exporter/atomic_write.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "common/onnx_file.h"
#include "exporter/onnx_export.h"
#include "graph_fixtures.h"
#include "pt2onnx/error.h"
#include "support/error_kind.h"

namespace pt2onnx::exporter {
namespace {

namespace fs = std::filesystem;
using pt2onnx::testing::kind_of;
using testing::ScratchDir;

void write_text(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

WriteBody body_writing(std::string text) {
  return [text = std::move(text)](int fd) {
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  };
}

TEST(AtomicWrite, ReplacesTheFileAndLeavesNoTemporaryBehind) {
  ScratchDir dir;
  const auto out = dir / "model.onnx";
  write_text(out, "old");
  write_file_atomically(out, body_writing("new contents"));
  EXPECT_EQ(read_text(out), "new contents");
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"model.onnx"}));
}

TEST(AtomicWrite, AFailingWriteKeepsTheOldFileAndRemovesTheTemporary) {
  ScratchDir dir;
  const auto out = dir / "model.onnx";
  write_text(out, "old");
  const auto failing = [](int fd) {
    ASSERT_EQ(::write(fd, "partial", 7), 7);
    throw Error(ErrorKind::Io, "disk full (simulated)");
  };
  EXPECT_EQ(kind_of([&] { write_file_atomically(out, failing); }), ErrorKind::Io);
  EXPECT_EQ(read_text(out), "old");
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"model.onnx"}));

  // No old file: nothing at all is left.
  const auto fresh = dir / "fresh.onnx";
  EXPECT_EQ(kind_of([&] { write_file_atomically(fresh, failing); }), ErrorKind::Io);
  EXPECT_FALSE(fs::exists(fresh));
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"model.onnx"}));
}

TEST(AtomicWrite, ARejectingCommitHookSeesTheCompleteFileAndStopsTheRename) {
  ScratchDir dir;
  const auto out = dir / "model.onnx";
  write_text(out, "old");
  std::string seen;
  const auto reject = [&](const fs::path& temp) {
    seen = read_text(temp);
    EXPECT_EQ(temp.parent_path(), dir.path());
    throw Error(ErrorKind::VerifyFailed, "verification failed (simulated)");
  };
  EXPECT_EQ(kind_of([&] { write_file_atomically(out, body_writing("candidate"), reject); }), ErrorKind::VerifyFailed);
  EXPECT_EQ(seen, "candidate");
  EXPECT_EQ(read_text(out), "old");
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"model.onnx"}));
}

TEST(AtomicWrite, NewFilesGetTheUmaskModeNotMkstemps0600) {
  ScratchDir dir;
  const mode_t old_mask = ::umask(022);
  write_file_atomically(dir / "a.onnx", body_writing("x"));
  ::umask(old_mask);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "a.onnx").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST(AtomicWrite, BadOutputPathsAreRefusedUpFront) {
  ScratchDir dir;
  fs::create_directory(dir / "sub");
  EXPECT_EQ(kind_of([&] { write_file_atomically(dir / "sub", body_writing("x")); }), ErrorKind::Usage);
  EXPECT_EQ(kind_of([&] { write_file_atomically(dir / "missing" / "m.onnx", body_writing("x")); }), ErrorKind::Io);
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"sub"}));
  EXPECT_TRUE(fs::is_empty(dir / "sub"));
  EXPECT_EQ(kind_of([&] { check_output_path(dir / "missing" / "m.onnx"); }), ErrorKind::Io);
  EXPECT_NO_THROW(check_output_path(dir / "sub" / "m.onnx"));
}

TEST(AtomicWrite, TheInputCheckpointIsNeverTheOutput) {
  ScratchDir dir;
  const auto ckpt = dir / "model.pth";
  write_text(ckpt, "checkpoint bytes");
  fs::create_symlink(ckpt, dir / "link.onnx");
  fs::create_hard_link(ckpt, dir / "hard.onnx");
  const auto model = export_model(testing::tiny_efficientnet(), {});
  for (const auto& out : {ckpt, dir / "link.onnx", dir / "hard.onnx", dir / "." / "model.pth"}) {
    SCOPED_TRACE(out.string());
    EXPECT_EQ(kind_of([&] { write_model(model, out, ckpt); }), ErrorKind::Usage);
    EXPECT_EQ(read_text(ckpt), "checkpoint bytes");
  }
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"hard.onnx", "link.onnx", "model.pth"}));
}

TEST(AtomicWrite, ModelsRoundTripThroughTheFile) {
  ScratchDir dir;
  const auto model = export_model(testing::tiny_efficientnet(), {});
  write_model(model, dir / "m.onnx", dir / "absent.pth");
  const auto back = read_onnx_model(dir / "m.onnx");
  EXPECT_EQ(back.SerializeAsString(), model.SerializeAsString());
}

TEST(AtomicWrite, ModelsOverTheProtobufLimitAreRefused) {
  EXPECT_NO_THROW(check_protobuf_size(kMaxOnnxBytes));
  try {
    check_protobuf_size(kMaxOnnxBytes + 1);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::ExportFailed);
    EXPECT_NE(std::string(e.what()).find("2147483647 byte limit"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("external data"), std::string::npos) << e.what();
  }
  EXPECT_THROW(check_protobuf_size(100, 99), Error);
}

}  // namespace
}  // namespace pt2onnx::exporter
