#include "infer/input_walker.h"

#include <set>

#include <gtest/gtest.h>

#include "infer/selected_inputs.h"
#include "pt2onnx/error.h"
#include "vision/test_images.h"

namespace pt2onnx::infer {
namespace {

using testing::TempDir;

std::vector<std::string> walk(std::vector<std::string> args) {
  InputWalker walker(std::move(args));
  std::vector<std::string> out;
  while (auto item = walker.next()) out.push_back(item->path);
  return out;
}

// A small tree: images at several depths, non-images, an extension-less
// DICOM and an extension-less non-DICOM.
void make_tree(const TempDir& dir) {
  testing::DicomWriter w;
  w.image_header(1, 1, 8, 8, false);
  w.pixel_data({0}, false);
  for (const char* name : {"b.png", "a.JPG", "c.jpeg", "sub/z.dcm", "sub/deeper/y.dicom", "sub/a.png", "B.png"}) {
    testing::write_text(dir / name, "x");
  }
  testing::write_file(dir / "sub/IMG0001", w.finish());
  testing::write_text(dir / "sub/README", "not an image, no extension");
  testing::write_text(dir / "notes.txt", "text");
  testing::write_text(dir / "data.csv", "1,2");
}

TEST(InputWalker, DirectoriesAreWalkedInByteOrderDepthFirst) {
  TempDir dir("pt2onnx-walk");
  make_tree(dir);
  const std::string root = dir.path().string();
  EXPECT_EQ(walk({root}), (std::vector<std::string>{root + "/B.png", root + "/a.JPG", root + "/b.png", root + "/c.jpeg",
                                                    root + "/sub/IMG0001", root + "/sub/a.png",
                                                    root + "/sub/deeper/y.dicom", root + "/sub/z.dcm"}));
}

TEST(InputWalker, FilesAreTakenAsGivenAndListsExpand) {
  TempDir dir("pt2onnx-walk");
  make_tree(dir);
  const std::string root = dir.path().string();
  testing::write_text(dir / "list.txt", root + "/notes.txt\r\n\n" + root + "/sub/deeper\nmissing.png\n");
  EXPECT_EQ(
      walk({"@" + root + "/list.txt", root + "/b.png"}),
      (std::vector<std::string>{root + "/notes.txt", root + "/sub/deeper/y.dicom", "missing.png", root + "/b.png"}));
}

TEST(InputWalker, MissingListIsAnIoError) {
  try {
    walk({"@/nonexistent/list.txt"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Io);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/list.txt"), std::string::npos);
  }
}

TEST(InputWalker, SymlinkedDirectoriesAreNotFollowed) {
  TempDir dir("pt2onnx-walk");
  testing::write_text(dir / "real/a.png", "x");
  std::filesystem::create_directory_symlink(dir / "real", dir / "loop");
  std::filesystem::create_directory_symlink(dir.path(), dir / "real/up");
  std::filesystem::create_symlink(dir / "real/a.png", dir / "link.png");
  const std::string root = dir.path().string();
  EXPECT_EQ(walk({root}), (std::vector<std::string>{root + "/link.png", root + "/real/a.png"}));
}

TEST(Shard, ParseAndOwnership) {
  EXPECT_EQ(parse_shard("3/8").index, 3);
  EXPECT_EQ(parse_shard("3/8").count, 8);
  for (const char* bad : {"0/3", "4/3", "1/0", "x", "1/", "/2", "1/2/3", "-1/2", "1.5/2"}) {
    EXPECT_THROW(parse_shard(bad), Error) << bad;
  }
}

TEST(Shard, EveryInputInExactlyOneShard) {
  TempDir dir("pt2onnx-walk");
  for (int i = 0; i < 23; ++i) testing::write_text(dir / ("img" + std::to_string(100 + i) + ".png"), "x");
  const std::vector<std::string> args{dir.path().string()};
  const std::vector<std::string> all = walk(args);
  for (std::int64_t n = 1; n <= 4; ++n) {
    std::multiset<std::string> seen;
    for (std::int64_t k = 1; k <= n; ++k) {
      SelectedInputs inputs(args, Shard{k, n}, nullptr);
      std::int64_t count = 0;
      while (auto item = inputs.next()) {
        seen.insert(item->path);
        ++count;
      }
      // Shares differ by at most one.
      EXPECT_LE(std::abs(count - static_cast<std::int64_t>(all.size()) / n), 1) << k << "/" << n;
    }
    EXPECT_EQ(seen, std::multiset<std::string>(all.begin(), all.end())) << "N = " << n;
  }
}

TEST(SelectedInputs, ResumeSkipsDonePathsWithoutMovingShards) {
  TempDir dir("pt2onnx-walk");
  for (int i = 0; i < 6; ++i) testing::write_text(dir / (std::to_string(i) + ".png"), "x");
  const std::string root = dir.path().string();
  const std::unordered_set<std::string> done{root + "/0.png", root + "/1.png"};
  SelectedInputs inputs({root}, Shard{1, 2}, &done);
  std::vector<std::string> got;
  while (auto item = inputs.next()) got.push_back(item->path);
  // Shard 1/2 owns positions 0, 2, 4; 0 is done.
  EXPECT_EQ(got, (std::vector<std::string>{root + "/2.png", root + "/4.png"}));
  std::atomic<bool> stop{false};
  EXPECT_EQ(count_selected({root}, Shard{1, 2}, &done, stop), 2);
}

}  // namespace
}  // namespace pt2onnx::infer
