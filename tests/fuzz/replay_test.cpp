// The fuzzers' corpora, replayed by the ordinary test build (no clang needed):
// every seed (fuzz/corpus/<target>/, real files from tests/fuzz/make_seeds.py)
// is accepted (those named refused_* refused), and every input a fuzzer once found (fuzz/regressions/<target>/)
// is handled: accepted or refused with a clear error, never an internal error
// or a crash. The sanitizer build runs the same bodies (fuzz/targets.cpp).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/targets.h"

namespace pt2onnx::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::uint8_t> read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().filename().string()[0] != '.') out.push_back(entry.path());
  }
  return out;
}

const fs::path kFuzzDir = fs::path(PT2ONNX_SOURCE_DIR) / "fuzz";

TEST(FuzzCorpus, EveryTargetHasSeedsAndAcceptsThem) {
  for (const auto& target : fuzz::targets()) {
    const auto seeds = files_in(kFuzzDir / "corpus" / target.name);
    EXPECT_GE(seeds.size(), 3u) << target.name;
    for (const auto& seed : seeds) {
      const auto bytes = read_all(seed);
      const bool refused = seed.filename().string().starts_with("refused_");
      EXPECT_EQ(target.run(bytes), !refused) << target.name << ": the seed " << seed;
      // Every prefix of a seed (a truncated file) is handled too.
      for (std::size_t cut = 0; cut < bytes.size(); cut += 1 + bytes.size() / 64) {
        (void)target.run(std::span(bytes).first(cut));
      }
    }
  }
}

// fuzz/targets.txt (which CMake and scripts/fuzz.sh build and run) names
// exactly the bodies fuzz/targets.cpp has.
TEST(FuzzCorpus, TheTargetListMatchesTheBodies) {
  std::ifstream list(kFuzzDir / "targets.txt");
  std::vector<std::string> listed;
  for (std::string line; std::getline(list, line);) {
    if (!line.empty()) listed.push_back(line);
  }
  std::vector<std::string> bodies;
  for (const auto& target : fuzz::targets()) bodies.emplace_back(target.name);
  EXPECT_EQ(listed, bodies);
}

TEST(FuzzCorpus, RegressionsAreHandled) {
  std::size_t replayed = 0;
  for (const auto& target : fuzz::targets()) {
    for (const auto& input : files_in(kFuzzDir / "regressions" / target.name)) {
      (void)target.run(read_all(input));  // an internal error aborts, a crash crashes: both fail the test
      ++replayed;
    }
  }
  SUCCEED() << replayed << " regression inputs replayed";
}

}  // namespace
}  // namespace pt2onnx::testing
