#include "checkpoint/zip_archive.h"

#include <zip.h>

#include <cstring>

#include <gtest/gtest.h>

#include "checkpoint_test_util.h"

namespace pt2onnx::checkpoint {
namespace {

using testing::expect_error;
using testing::TempDir;

struct Member {
  std::string name;
  std::string data;
  bool deflate = false;
};

// A zip written by libzip itself (the independent writer), stored or deflated per entry.
std::filesystem::path make_zip(const TempDir& dir, const std::string& file, const std::vector<Member>& members) {
  const auto path = dir.path() / file;
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  EXPECT_NE(z, nullptr);
  for (const auto& m : members) {
    zip_source_t* src = zip_source_buffer(z, m.data.data(), m.data.size(), 0);
    const auto index = zip_file_add(z, m.name.c_str(), src, ZIP_FL_OVERWRITE);
    EXPECT_GE(index, 0);
    zip_set_file_compression(z, static_cast<zip_uint64_t>(index), m.deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  }
  EXPECT_EQ(zip_close(z), 0);
  return path;
}

std::string pseudo_random(std::size_t n, std::uint32_t seed) {
  std::string s(n, '\0');
  for (auto& c : s) {
    seed = seed * 1664525u + 1013904223u;
    c = static_cast<char>(seed >> 24);
  }
  return s;
}

std::uint64_t size_of(const std::filesystem::path& p) { return std::filesystem::file_size(p); }

// Overwrites a little-endian u32 at every zip header of the given signature; field_offset is from the signature.
void patch_headers(const std::filesystem::path& p, std::uint32_t signature, std::size_t field_offset,
                   std::uint32_t value) {
  auto bytes = testing::read_file(p);
  for (std::size_t i = 0; i + field_offset + 4 <= bytes.size(); ++i) {
    std::uint32_t sig = 0;
    std::memcpy(&sig, bytes.data() + i, 4);
    if (sig == signature) std::memcpy(bytes.data() + i + field_offset, &value, 4);
  }
  std::filesystem::remove(p);
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

constexpr std::uint32_t kLocal = 0x04034b50;
constexpr std::uint32_t kCentral = 0x02014b50;

TEST(ZipArchive, ReadsStoredAndDeflatedEntries) {
  TempDir dir;
  const auto text = pseudo_random(100000, 1) + std::string(50000, 'a');
  const auto p =
      make_zip(dir, "a.zip", {{"x/stored", "hello", false}, {"x/deflated", text, true}, {"x/empty", "", false}});
  ZipArchive zip(p, size_of(p), {});
  ASSERT_EQ(zip.entries().size(), 3u);
  const auto* stored = zip.find("x/stored");
  ASSERT_NE(stored, nullptr);
  EXPECT_EQ(stored->method, ZipMethod::Stored);
  const auto a = zip.read(*stored);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(a.data()), a.size()), "hello");
  const auto* deflated = zip.find("x/deflated");
  EXPECT_EQ(deflated->method, ZipMethod::Deflated);
  EXPECT_LT(deflated->compressed_size, deflated->size);
  const auto b = zip.read(*deflated);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data()), b.size()), text);
  EXPECT_TRUE(zip.read(*zip.find("x/empty")).empty());
  EXPECT_EQ(zip.find("nope"), nullptr);
}

TEST(ZipArchive, HighlyCompressedEntryIsAZipBomb) {
  TempDir dir;
  const auto p = make_zip(dir, "bomb.zip", {{"archive/data/0", std::string(8u << 20, '\0'), true}});
  ASSERT_LT(size_of(p), 100000u);
  expect_error([&] { ZipArchive zip(p, size_of(p), {}); }, ErrorKind::BadInput,
               {"entry archive/data/0", "zip bomb guard", "8388608"});
}

TEST(ZipArchive, InflatedTotalIsCapped) {
  TempDir dir;
  const auto p =
      make_zip(dir, "two.zip", {{"a", pseudo_random(2u << 20, 1), true}, {"b", pseudo_random(2u << 20, 2), true}});
  ZipLimits limits;
  limits.max_inflated_bytes = 3u << 20;
  ZipArchive zip(p, size_of(p), limits);
  EXPECT_EQ(zip.read(*zip.find("a")).size(), 2u << 20);
  expect_error([&] { (void)zip.read(*zip.find("b")); }, ErrorKind::BadInput, {"entry b", "zip bomb guard"});
}

TEST(ZipArchive, EntryLargerThanTheCapIsRefused) {
  TempDir dir;
  const auto p = make_zip(dir, "big.zip", {{"big", std::string(5000, 'x'), false}});
  ZipLimits limits;
  limits.max_entry_bytes = 4096;
  expect_error([&] { ZipArchive zip(p, size_of(p), limits); }, ErrorKind::BadInput, {"entry big", "5000 bytes"});
}

TEST(ZipArchive, HugeDeclaredSizeIsRefusedBeforeAllocating) {
  TempDir dir;
  const auto p = make_zip(dir, "liar.zip", {{"archive/data/0", pseudo_random(1000, 3), false}});
  patch_headers(p, kLocal, 18, 0xfffffff0u);  // compressed size
  patch_headers(p, kLocal, 22, 0xfffffff0u);  // uncompressed size
  patch_headers(p, kCentral, 20, 0xfffffff0u);
  patch_headers(p, kCentral, 24, 0xfffffff0u);
  expect_error([&] { ZipArchive zip(p, size_of(p), {}); }, ErrorKind::BadInput, {});
}

TEST(ZipArchive, DeflatedEntryDeclaringMoreThanDeflateCanGiveIsRefused) {
  TempDir dir;
  const auto p = make_zip(dir, "liar.zip", {{"archive/data/0", pseudo_random(100000, 4), true}});
  patch_headers(p, kLocal, 22, 0xf0000000u);
  patch_headers(p, kCentral, 24, 0xf0000000u);
  expect_error([&] { ZipArchive zip(p, size_of(p), {}); }, ErrorKind::BadInput,
               {"entry archive/data/0", "zip bomb guard"});
}

TEST(ZipArchive, DeclaredSizeThatDoesNotMatchTheDataIsAnError) {
  TempDir dir;
  const auto data = pseudo_random(100000, 5);
  for (const std::uint32_t declared : {50000u, 150000u}) {
    SCOPED_TRACE(declared);
    const auto p = make_zip(dir, "mismatch.zip", {{"e", data, true}});
    patch_headers(p, kLocal, 22, declared);
    patch_headers(p, kCentral, 24, declared);
    try {
      ZipArchive zip(p, size_of(p), {});
      (void)zip.read(*zip.find("e"));
      ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::BadInput) << e.what();
      EXPECT_NE(std::string(e.what()).find("entry e"), std::string::npos) << e.what();
    }
  }
}

TEST(ZipArchive, CorruptDataFailsTheCrcCheck) {
  TempDir dir;
  const auto p = make_zip(dir, "crc.zip", {{"e", std::string(1000, 'q'), false}});
  auto bytes = testing::read_file(p);
  const auto at = std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()).find("qqqq");
  bytes[at + 10] = std::byte{'r'};
  const auto q = dir.write("crc2.zip", bytes);
  ZipArchive zip(q, size_of(q), {});
  expect_error([&] { (void)zip.read(*zip.find("e")); }, ErrorKind::BadInput, {"entry e"});
}

TEST(ZipArchive, NotAZipOrTruncated) {
  TempDir dir;
  const auto junk = dir.write("junk.zip", std::string("PK\x03\x04") + pseudo_random(5000, 6));
  expect_error([&] { ZipArchive zip(junk, size_of(junk), {}); }, ErrorKind::BadInput, {"not a readable zip archive"});
  const auto good = make_zip(dir, "good.zip", {{"e", pseudo_random(5000, 7), false}});
  auto bytes = testing::read_file(good);
  bytes.resize(bytes.size() - 30);
  const auto cut = dir.write("cut.zip", bytes);
  expect_error([&] { ZipArchive zip(cut, size_of(cut), {}); }, ErrorKind::BadInput, {"not a readable zip archive"});
  const auto missing = dir.path() / "missing.zip";
  expect_error([&] { ZipArchive zip(missing, 0, {}); }, ErrorKind::Io, {});
}

// libzip's texts name its internals ("No such file" for a local header that
// does not match its central directory entry, "File already exists" for two
// entries whose names clash): each error code gets pt2onnx's own words.
TEST(ZipArchive, ErrorsAreDescribedInOurWords) {
  for (int code = 1; code <= ZIP_ER_CANCELLED; ++code) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    const std::string theirs = zip_error_strerror(&error);
    zip_error_fini(&error);
    const std::string ours = describe_zip_error(code, 0);
    EXPECT_EQ(ours.find(theirs), std::string::npos) << "code " << code << ": " << ours;
    EXPECT_FALSE(ours.empty());
  }
  EXPECT_NE(describe_zip_error(ZIP_ER_NOENT, 0).find("corrupt local header"), std::string::npos);
  EXPECT_NE(describe_zip_error(ZIP_ER_EXISTS, 0).find("same name"), std::string::npos);

  // A local header whose name length disagrees with the central directory.
  TempDir dir;
  const auto good =
      make_zip(dir, "good.zip", {{"a", pseudo_random(100, 8), false}, {"b", pseudo_random(100, 9), false}});
  const auto raw = testing::read_file(good);
  std::string bytes(reinterpret_cast<const char*>(raw.data()), raw.size());
  const auto second = bytes.find("PK\x03\x04", 4);
  ASSERT_NE(second, std::string::npos);
  bytes[second + 26] = '\x40';
  const auto bad = dir.write("bad.zip", bytes);
  expect_error([&] { ZipArchive zip(bad, size_of(bad), {}); }, ErrorKind::BadInput,
               {"not a readable zip archive", "disagree"});
}

}  // namespace
}  // namespace pt2onnx::checkpoint
