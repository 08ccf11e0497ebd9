// The legacy (non-zip) torch.save format, built byte by byte.
#include <cstring>

#include <gtest/gtest.h>

#include "checkpoint/checkpoint.h"
#include "checkpoint_test_util.h"

namespace pt2onnx::checkpoint {
namespace {

using testing::expect_error;
using testing::Pickle;
using testing::TempDir;

std::string magic() {
  return Pickle().proto(2).op(0x8a).u8(10).raw("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19").stop().bytes();
}
std::string protocol(int v = 1001) {
  return Pickle().proto(2).op('M').u16(static_cast<std::uint16_t>(v)).stop().bytes();
}
std::string sys_info(bool little = true) {
  return Pickle()
      .proto(2)
      .empty_dict()
      .str("protocol_version")
      .op('M')
      .u16(1001)
      .setitem()
      .str("little_endian")
      .op(little ? 0x88 : 0x89)
      .setitem()
      .stop()
      .bytes();
}

// ('storage', torch.FloatStorage, key, 'cpu', numel, view_metadata)
Pickle& storage(Pickle& p, std::string_view key, int numel,
                std::optional<std::tuple<std::string, int, int>> view = {}) {
  p.mark().str("storage").global("torch", "FloatStorage").str(key).str("cpu").int4(numel);
  if (view) {
    p.mark().str(std::get<0>(*view)).int4(std::get<1>(*view)).int4(std::get<2>(*view)).tuple();
  } else {
    p.none();
  }
  return p.tuple().binpersid();
}

Pickle& tensor(Pickle& p, std::string_view key, int numel, int offset, std::vector<std::int64_t> size,
               std::vector<std::int64_t> stride, std::optional<std::tuple<std::string, int, int>> view = {}) {
  p.global("torch._utils", "_rebuild_tensor_v2").mark();
  storage(p, key, numel, view);
  p.int4(offset)
      .int_tuple(size)
      .int_tuple(stride)
      .newfalse()
      .global("collections", "OrderedDict")
      .empty_tuple()
      .reduce();
  return p.tuple().reduce();
}

std::string storage_data(std::int64_t count, std::initializer_list<float> values) {
  std::string out(8, '\0');
  std::memcpy(out.data(), &count, 8);
  for (float v : values) out.append(reinterpret_cast<const char*>(&v), 4);
  return out;
}

std::string keys(std::initializer_list<std::string_view> ks) {
  Pickle p;
  p.proto(2).mark();
  for (auto k : ks) p.str(k);
  return p.op('l').stop().bytes();
}

std::vector<double> values(const Tensor& t) {
  std::vector<double> out;
  for (std::int64_t i = 0; i < t.numel(); ++i) out.push_back(t.element_as_double(i));
  return out;
}

std::string two_tensor_object() {
  Pickle p;
  p.proto(2).global("collections", "OrderedDict").empty_tuple().reduce().mark();
  tensor(p.str("a"), "140", 6, 0, {2, 3}, {3, 1});
  tensor(p.str("b"), "140", 6, 0, {2, 2}, {3, 2});  // the same storage, every other column
  tensor(p.str("c"), "99", 2, 1, {1}, {1});
  return p.setitems().stop().bytes();
}

TEST(TorchLegacy, ReadsStoragesAfterThePickles) {
  TempDir dir;
  const auto path =
      dir.write("legacy.pth", magic() + protocol() + sys_info() + two_tensor_object() + keys({"140", "99"}) +
                                  storage_data(6, {0, 1, 2, 3, 4, 5}) + storage_data(2, {7, 8}));
  auto loaded = load_state_dict(path);
  EXPECT_EQ(loaded.format, "torch-legacy");
  EXPECT_EQ(values(*loaded.state_dict.find("a")), (std::vector<double>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(values(*loaded.state_dict.find("b")), (std::vector<double>{0, 2, 3, 5}));
  EXPECT_EQ(values(*loaded.state_dict.find("c")), (std::vector<double>{8}));
}

TEST(TorchLegacy, StorageViews) {
  TempDir dir;
  Pickle p;
  p.proto(2).global("collections", "OrderedDict").empty_tuple().reduce();
  tensor(p.str("v"), "1", 6, 1, {2}, {1}, std::tuple<std::string, int, int>{"1v", 2, 3}).setitem().stop();
  const auto path = dir.write(
      "view.pth", magic() + protocol() + sys_info() + p.bytes() + keys({"1"}) + storage_data(6, {0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(values(*load_state_dict(path).state_dict.find("v")), (std::vector<double>{3, 4}));
}

TEST(TorchLegacy, MalformedFilesNameTheProblem) {
  TempDir dir;
  const auto head = magic() + protocol() + sys_info();
  const auto body = two_tensor_object() + keys({"140", "99"});
  auto check = [&](const std::string& name, const std::string& bytes, ErrorKind kind,
                   std::initializer_list<std::string_view> needles) {
    SCOPED_TRACE(name);
    const auto path = dir.write(name, bytes);
    expect_error([&] { read_checkpoint(path); }, kind, needles);
  };
  check("count.pth", head + body + storage_data(5, {0, 1, 2, 3, 4}) + storage_data(2, {7, 8}), ErrorKind::BadInput,
        {"count.pth", "storage '140'", "holds 5 elements but the pickle declares 6"});
  check("short.pth", head + body + storage_data(6, {0, 1, 2, 3, 4, 5}) + storage_data(2, {7}), ErrorKind::BadInput,
        {"storage '99'", "do not fit"});
  check("nodata.pth", head + body + storage_data(6, {0, 1, 2, 3, 4, 5}), ErrorKind::BadInput, {"truncated"});
  check("unlisted.pth", head + two_tensor_object() + keys({"140"}) + storage_data(6, {0, 1, 2, 3, 4, 5}),
        ErrorKind::BadInput, {"storage '99' has no data"});
  check("unknown.pth",
        head + two_tensor_object() + keys({"140", "99", "5"}) + storage_data(6, {0, 1, 2, 3, 4, 5}) +
            storage_data(2, {7, 8}),
        ErrorKind::BadInput, {"storage '5'", "never used"});
  check("protocol.pth", magic() + protocol(1000) + sys_info() + body, ErrorKind::Unsupported, {"protocol 1000"});
  check("bigendian.pth", magic() + protocol() + sys_info(false) + body, ErrorKind::Unsupported, {"big-endian"});
  check("cut.pth", (head + body).substr(0, head.size() + 40), ErrorKind::BadInput,
        {"cut.pth", "object pickle: offset", "truncated"});
  // A plain pickle starting like a torch file but with another number.
  check(
      "magic.pth",
      Pickle().proto(2).op(0x8a).u8(10).raw("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19").op('0').int1(1).stop().bytes() +
          protocol(),
      ErrorKind::BadInput, {"magic number"});
}

}  // namespace
}  // namespace pt2onnx::checkpoint
