// torch.save zip files: written by pt2onnx's own writer, and hand-built in
// PyTorch 2.x's layout (other prefix, byteorder and .format_version records).
#include <cstring>
#include <functional>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "checkpoint/checkpoint.h"
#include "checkpoint/zip_writer.h"
#include "checkpoint_test_util.h"
#include "common/atomic_file.h"

namespace pt2onnx::checkpoint {
namespace {

using testing::expect_error;
using testing::Pickle;
using testing::TempDir;

Tensor tensor_of(DType dtype, Shape shape, std::uint8_t seed) {
  Tensor t(dtype, std::move(shape));
  auto bytes = t.bytes();
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::byte>((i * 37 + seed) & 0xff);
  if (dtype == DType::Bool) {
    for (auto& b : bytes) b = static_cast<std::byte>(static_cast<unsigned>(b) & 1U);
  }
  return t;
}

StateDict every_dtype() {
  StateDict sd;
  const DType dtypes[] = {DType::Float32, DType::Float16, DType::BFloat16, DType::Float64, DType::Int64,
                          DType::Int32,   DType::Int16,   DType::Int8,     DType::UInt8,   DType::Bool};
  std::uint8_t seed = 0;
  for (auto d : dtypes) sd.entries.emplace_back(fmt::format("layer.{}", dtype_name(d)), tensor_of(d, {3, 2}, seed++));
  sd.entries.emplace_back("scalar", tensor_of(DType::Float32, {}, 9));
  sd.entries.emplace_back("empty", tensor_of(DType::Float32, {0, 4}, 0));
  return sd;
}

void expect_same(const StateDict& a, const StateDict& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(a.entries[i].first);
    EXPECT_EQ(a.entries[i].first, b.entries[i].first);
    EXPECT_EQ(a.entries[i].second.dtype(), b.entries[i].second.dtype());
    EXPECT_EQ(a.entries[i].second.shape(), b.entries[i].second.shape());
    ASSERT_EQ(a.entries[i].second.nbytes(), b.entries[i].second.nbytes());
    if (a.entries[i].second.nbytes() != 0) {
      EXPECT_EQ(std::memcmp(a.entries[i].second.bytes().data(), b.entries[i].second.bytes().data(),
                            a.entries[i].second.nbytes()),
                0);
    }
  }
}

// Hand-built archives: members in order, stored, as PyTorch writes them.
std::filesystem::path build_zip(const TempDir& dir, const std::string& name,
                                const std::vector<std::pair<std::string, std::string>>& members) {
  const auto path = dir.path() / name;
  AtomicFile file(path);
  ZipWriter zip(file);
  for (const auto& [n, data] : members) zip.add_stored(n, testing::as_span(data));
  zip.finish();
  file.commit();
  return path;
}

std::string f32_bytes(std::initializer_list<float> values, bool big_endian = false) {
  std::string out;
  for (float v : values) {
    char b[4];
    std::memcpy(b, &v, 4);
    if (big_endian) std::swap(b[0], b[3]), std::swap(b[1], b[2]);
    out.append(b, 4);
  }
  return out;
}

// _rebuild_tensor_v2(('storage', torch.<cls>, key, 'cpu', numel), offset, size, stride, False, OrderedDict())
Pickle& rebuild(Pickle& p, std::string_view cls, std::string_view key, int numel, int offset,
                std::vector<std::int64_t> size, std::vector<std::int64_t> stride) {
  p.global("torch._utils", "_rebuild_tensor_v2").mark();
  p.mark().str("storage").global("torch", cls).str(key).str("cpu").int4(numel).tuple().binpersid();
  p.int4(offset).int_tuple(size).int_tuple(stride).newfalse();
  p.global("collections", "OrderedDict").empty_tuple().reduce();
  return p.tuple().reduce();
}

std::string pickle_with(const std::function<void(Pickle&)>& items) {
  Pickle p;
  p.proto(2).global("collections", "OrderedDict").empty_tuple().reduce().mark();
  items(p);
  p.setitems().stop();
  return p.bytes();
}

std::vector<double> values(const Tensor& t) {
  std::vector<double> out;
  for (std::int64_t i = 0; i < t.numel(); ++i) out.push_back(t.element_as_double(i));
  return out;
}

TEST(TorchZip, WriterRoundTripsEveryDType) {
  TempDir dir;
  const auto sd = every_dtype();
  const auto path = dir.path() / "out.pth";
  write_torch_zip(path, sd, "model_state_dict");
  auto loaded = load_state_dict(path);
  EXPECT_EQ(loaded.format, "torch-zip");
  EXPECT_EQ(loaded.found_under, "model_state_dict");
  expect_same(sd, loaded.state_dict);

  write_torch_zip(path, sd, "");  // over the old file
  auto plain = load_state_dict(path);
  EXPECT_EQ(plain.found_under, "");
  expect_same(sd, plain.state_dict);
  // Only the file itself is left: the temporary was renamed.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}

TEST(TorchZip, WriterAlignsDataLikePyTorch) {
  TempDir dir;
  const auto path = dir.path() / "out.pth";
  write_torch_zip(path, every_dtype(), "");
  const auto bytes = testing::read_file(path);
  int data_records = 0;
  for (std::size_t i = 0; i + 30 < bytes.size(); ++i) {
    std::uint32_t sig = 0;
    std::memcpy(&sig, bytes.data() + i, 4);
    if (sig != 0x04034b50) continue;
    std::uint16_t name_len = 0, extra_len = 0;
    std::memcpy(&name_len, bytes.data() + i + 26, 2);
    std::memcpy(&extra_len, bytes.data() + i + 28, 2);
    const std::string name(reinterpret_cast<const char*>(bytes.data()) + i + 30, name_len);
    EXPECT_EQ((i + 30 + name_len + extra_len) % 64, 0u) << name;
    data_records += name.starts_with("archive/data/") ? 1 : 0;
  }
  EXPECT_EQ(data_records, 12);
}

TEST(TorchZip, WriterFailsCleanlyOnAMissingDirectory) {
  TempDir dir;
  expect_error([&] { write_torch_zip(dir.path() / "no" / "such" / "x.pth", every_dtype(), ""); }, ErrorKind::Io,
               {"x.pth", "does not exist"});
}

TEST(TorchZip, PyTorch2LayoutWithSharedStorageAndViews) {
  TempDir dir;
  // One storage of 12 floats (a [3, 4] matrix) seen as: the whole, t[:, ::2], t.t(), narrow(0, 1, 2).
  const auto pickle = pickle_with([](Pickle& p) {
    rebuild(p.str("whole"), "FloatStorage", "0", 12, 0, {3, 4}, {4, 1});
    rebuild(p.str("every_other"), "FloatStorage", "0", 12, 0, {3, 2}, {4, 2});
    rebuild(p.str("transposed"), "FloatStorage", "0", 12, 0, {4, 3}, {1, 4});
    rebuild(p.str("narrowed"), "FloatStorage", "0", 12, 4, {2, 4}, {4, 1});
  });
  const auto path = build_zip(dir, "v2.pt",
                              {{"mymodel/data.pkl", pickle},
                               {"mymodel/.format_version", "1"},
                               {"mymodel/.storage_alignment", "64"},
                               {"mymodel/byteorder", "little"},
                               {"mymodel/data/0", f32_bytes({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})},
                               {"mymodel/version", "3\n"},
                               {"mymodel/.data/version", "3\n"},
                               {"mymodel/.data/serialization_id", "1234567890"}});
  const auto ckpt = read_checkpoint(path);
  EXPECT_EQ(ckpt.format, CheckpointFormat::TorchZip);
  EXPECT_EQ(ckpt.metadata.front(), (std::pair<std::string, std::string>{"archive", "mymodel"}));
  auto loaded = load_state_dict(path);
  const auto& sd = loaded.state_dict;
  EXPECT_EQ(values(*sd.find("whole")), (std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(values(*sd.find("every_other")), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(values(*sd.find("transposed")), (std::vector<double>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  EXPECT_EQ(values(*sd.find("narrowed")), (std::vector<double>{4, 5, 6, 7, 8, 9, 10, 11}));
}

TEST(TorchZip, BigEndianStoragesAreSwapped) {
  TempDir dir;
  const auto pickle = pickle_with([](Pickle& p) { rebuild(p.str("w"), "FloatStorage", "0", 2, 0, {2}, {1}); });
  const auto path = build_zip(dir, "be.pt",
                              {{"archive/data.pkl", pickle},
                               {"archive/byteorder", "big"},
                               {"archive/data/0", f32_bytes({1.5f, -2.0f}, true)},
                               {"archive/version", "3"}});
  EXPECT_EQ(values(*load_state_dict(path).state_dict.find("w")), (std::vector<double>{1.5, -2.0}));
}

TEST(TorchZip, ParametersAndTensorSubclassWrappersRebuild) {
  TempDir dir;
  const auto pickle = pickle_with([](Pickle& p) {
    p.str("param").global("torch._utils", "_rebuild_parameter").mark();
    rebuild(p, "FloatStorage", "0", 2, 0, {2}, {1});
    p.newtrue().global("collections", "OrderedDict").empty_tuple().reduce().tuple().reduce();
    // torch._tensor._rebuild_from_type_v2(_rebuild_tensor_v2, torch.Tensor, (args...), {})
    p.str("typed").global("torch._tensor", "_rebuild_from_type_v2").mark().global("torch._utils", "_rebuild_tensor_v2");
    p.global("torch", "Tensor")
        .mark()
        .mark()
        .str("storage")
        .global("torch", "FloatStorage")
        .str("0")
        .str("cpu")
        .int4(2);
    p.tuple()
        .binpersid()
        .int4(1)
        .int_tuple({1})
        .int_tuple({1})
        .newfalse()
        .empty_dict()
        .tuple()
        .empty_dict()
        .tuple()
        .reduce();
  });
  const auto path = build_zip(dir, "p.pt", {{"archive/data.pkl", pickle}, {"archive/data/0", f32_bytes({3, 4})}});
  auto sd = load_state_dict(path).state_dict;
  EXPECT_EQ(values(*sd.find("param")), (std::vector<double>{3, 4}));
  EXPECT_EQ(values(*sd.find("typed")), (std::vector<double>{4}));
}

TEST(TorchZip, StorageRecordProblemsNameTheEntry) {
  TempDir dir;
  const auto pickle = pickle_with([](Pickle& p) { rebuild(p.str("w"), "FloatStorage", "0", 4, 0, {4}, {1}); });
  const auto missing = build_zip(dir, "missing.pt", {{"archive/data.pkl", pickle}});
  expect_error([&] { read_checkpoint(missing); }, ErrorKind::BadInput,
               {"missing.pt", "entry archive/data.pkl", "archive/data/0 is missing"});
  const auto short_record =
      build_zip(dir, "short.pt", {{"archive/data.pkl", pickle}, {"archive/data/0", f32_bytes({1, 2})}});
  expect_error([&] { read_checkpoint(short_record); }, ErrorKind::BadInput,
               {"entry archive/data/0", "holds 8 bytes", "4 elements of float32"});
  const auto out_of_range = build_zip(
      dir, "range.pt",
      {{"archive/data.pkl", pickle_with([](Pickle& p) { rebuild(p.str("w"), "FloatStorage", "0", 4, 3, {2}, {1}); })},
       {"archive/data/0", f32_bytes({1, 2, 3, 4})}});
  expect_error([&] { read_checkpoint(out_of_range); }, ErrorKind::BadInput,
               {"range.pt", "entry archive/data.pkl: offset", "(REDUCE)", "past the end"});
  const auto bad_order = build_zip(dir, "order.pt", {{"archive/data.pkl", pickle}, {"archive/byteorder", "middle"}});
  expect_error([&] { read_checkpoint(bad_order); }, ErrorKind::BadInput, {"entry archive/byteorder", "middle"});
  const auto no_pickle = build_zip(dir, "nopkl.pt", {{"archive/data/0", "x"}});
  expect_error([&] { read_checkpoint(no_pickle); }, ErrorKind::BadInput, {"nopkl.pt", "not a torch.save checkpoint"});
  const auto two = build_zip(dir, "two.pt", {{"a/data.pkl", pickle}, {"b/data.pkl", pickle}});
  expect_error([&] { read_checkpoint(two); }, ErrorKind::BadInput, {"more than one"});
  const auto bad_pid = build_zip(dir, "pid.pt",
                                 {{"archive/data.pkl", Pickle()
                                                           .proto(2)
                                                           .mark()
                                                           .str("storage")
                                                           .int1(5)
                                                           .str("0")
                                                           .str("cpu")
                                                           .int1(1)
                                                           .tuple()
                                                           .binpersid()
                                                           .stop()
                                                           .bytes()}});
  expect_error([&] { read_checkpoint(bad_pid); }, ErrorKind::BadInput, {"not a storage class"});
}

TEST(TorchZip, CodeExecutionInTheStateDictIsRefused) {
  TempDir dir;
  const auto pickle = pickle_with([](Pickle& p) {
    rebuild(p.str("w"), "FloatStorage", "0", 1, 0, {1}, {1});
    p.str("evil").global("posix", "system").mark().str("touch /tmp/pt2onnx_pwned").tuple().reduce();
  });
  const auto path = build_zip(dir, "evil.pt", {{"archive/data.pkl", pickle}, {"archive/data/0", f32_bytes({1})}});
  expect_error([&] { read_checkpoint(path); }, ErrorKind::BadInput, {"evil.pt", "refusing", "posix.system"});
  EXPECT_FALSE(std::filesystem::exists("/tmp/pt2onnx_pwned"));
}

TEST(TorchZip, UnknownObjectsLoadAsPlaceholdersUnlessTheStateDictNeedsThem) {
  TempDir dir;
  // {'model_state_dict': {w: tensor}, 'args': argparse.Namespace(lr=1), 'step': numpy scalar}
  Pickle p;
  p.proto(2).empty_dict().mark().str("model_state_dict").global("collections", "OrderedDict").empty_tuple().reduce();
  rebuild(p.str("w"), "FloatStorage", "0", 1, 0, {1}, {1}).setitem();
  p.str("args").global("argparse", "Namespace").empty_tuple().newobj().empty_dict().str("lr").int1(1).setitem().build();
  p.str("step").global("numpy.core.multiarray", "scalar").mark().str("i8").str("\x01").tuple().reduce();
  p.str("labels").mark().str("biopsy").str("magview").op('l');
  p.setitems().stop();
  const auto path = build_zip(dir, "train.pt", {{"archive/data.pkl", p.bytes()}, {"archive/data/0", f32_bytes({7})}});
  auto loaded = load_state_dict(path);
  EXPECT_EQ(loaded.found_under, "model_state_dict");
  EXPECT_EQ(values(*loaded.state_dict.find("w")), (std::vector<double>{7}));
  ASSERT_TRUE(loaded.labels.has_value());
  EXPECT_EQ(*loaded.labels, (std::vector<std::string>{"biopsy", "magview"}));
  const auto ckpt = read_checkpoint(path);
  EXPECT_EQ(short_repr(*ckpt.root.as_dict().find("args")), "argparse.Namespace(lr=1)");

  // A tensor whose storage comes from a callable that is not allowlisted: reading works, loading names it.
  Pickle q;
  q.proto(2).global("collections", "OrderedDict").empty_tuple().reduce().mark();
  q.str("w").global("torch._utils", "_rebuild_tensor_v2").mark().global("mymod", "make_storage").empty_tuple().reduce();
  q.int1(0).int_tuple({1}).int_tuple({1}).newfalse().empty_dict().tuple().reduce();
  q.str("b").global("mymod", "Bias").empty_tuple().reduce().setitems().stop();
  const auto sneaky = build_zip(dir, "sneaky.pt", {{"archive/data.pkl", q.bytes()}});
  EXPECT_NO_THROW(read_checkpoint(sneaky));
  expect_error([&] { load_state_dict(sneaky); }, ErrorKind::BadInput, {"sneaky.pt", "'w'", "mymod.make_storage"});
  // An unsupported storage type: the same.
  const auto complex = build_zip(dir, "complex.pt", {{"archive/data.pkl", pickle_with([](Pickle& r) {
                                                        rebuild(r.str("c"), "ComplexFloatStorage", "0", 1, 0, {1}, {1});
                                                      })}});
  expect_error([&] { load_state_dict(complex); }, ErrorKind::BadInput, {"'c'", "torch.ComplexFloatStorage"});
}

}  // namespace
}  // namespace pt2onnx::checkpoint
