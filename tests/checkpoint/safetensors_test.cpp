#include <cstring>

#include <gtest/gtest.h>

#include "checkpoint/checkpoint.h"
#include "checkpoint_test_util.h"

namespace pt2onnx::checkpoint {
namespace {

using testing::expect_error;
using testing::TempDir;

std::string with_header(const std::string& json, const std::string& data) {
  std::string out(8, '\0');
  const std::uint64_t n = json.size();
  std::memcpy(out.data(), &n, 8);
  return out + json + data;
}

std::string f32(std::initializer_list<float> values) {
  std::string out;
  for (float v : values) out.append(reinterpret_cast<const char*>(&v), 4);
  return out;
}

TEST(Safetensors, ReadsTensorsInOffsetOrderWithMetadata) {
  TempDir dir;
  // Header keys out of offset order, as the format allows; bf16 1.0 and -2.0; a bool; an empty tensor.
  const std::string json =
      R"({"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]},"__metadata__":{"format":"pt"},)"
      R"("a":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]},"e":{"dtype":"I64","shape":[0],"data_offsets":[12,12]},)"
      R"("m":{"dtype":"BOOL","shape":[],"data_offsets":[12,13]}})";
  const std::string data = f32({1.5f, 2.5f}) + std::string("\x80\x3f\x00\xc0", 4) + std::string("\x01", 1);
  const auto path = dir.write("w.safetensors", with_header(json, data));
  EXPECT_EQ(detect_checkpoint_format(path), CheckpointFormat::Safetensors);
  const auto ckpt = read_checkpoint(path);
  EXPECT_EQ(ckpt.metadata, (std::vector<std::pair<std::string, std::string>>{{"format", "pt"}}));
  auto loaded = load_state_dict(path);
  EXPECT_EQ(loaded.format, "safetensors");
  const auto& e = loaded.state_dict.entries;
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].first, "a");
  EXPECT_EQ(e[0].second.shape(), (Shape{2, 1}));
  EXPECT_EQ(e[0].second.sum(), 4.0);
  EXPECT_EQ(e[1].first, "b");
  EXPECT_EQ(e[1].second.dtype(), DType::BFloat16);
  EXPECT_EQ(e[1].second.element_as_double(1), -2.0);
  EXPECT_EQ(e[2].first, "e");
  EXPECT_EQ(e[3].second.dtype(), DType::Bool);
  EXPECT_EQ(e[3].second.sum(), 1.0);
}

TEST(Safetensors, BadHeadersAreRejected) {
  TempDir dir;
  const std::string ok_entry = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  const std::string data = f32({1, 2});
  auto check = [&](const std::string& name, const std::string& bytes, ErrorKind kind,
                   std::initializer_list<std::string_view> needles) {
    SCOPED_TRACE(name);
    const auto path = dir.write(name, bytes);
    expect_error([&] { read_checkpoint(path); }, kind, needles);
  };
  auto file = [&](const std::string& entries, const std::string& d) { return with_header("{" + entries + "}", d); };

  check("past_end.safetensors", with_header("{" + ok_entry + "}", data).substr(0, 20), ErrorKind::BadInput,
        {"past_end.safetensors", "runs past the end"});
  std::string huge(8, '\0');
  const std::uint64_t n = 1ULL << 40;
  std::memcpy(huge.data(), &n, 8);
  check("huge.safetensors", huge + "{}", ErrorKind::BadInput, {"1099511627776 bytes", "larger than"});
  check("json.safetensors", with_header("{not json", data), ErrorKind::BadInput, {"not a JSON object"});
  check("dtype.safetensors", file(R"("a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]})", "ab"),
        ErrorKind::Unsupported, {"'a'", "F8_E4M3"});
  check("shape.safetensors", file(R"("a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]})", data), ErrorKind::BadInput,
        {"'a'", "span 8 bytes", "needs 12"});
  check("negative.safetensors", file(R"("a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]})", data),
        ErrorKind::BadInput, {"'a'", "non-negative"});
  check("reversed.safetensors", file(R"("a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]})", data),
        ErrorKind::BadInput, {"backwards"});
  check("overlap.safetensors", file(ok_entry + R"(,"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]})", data),
        ErrorKind::BadInput, {"'b'", "overlap"});
  check("gap.safetensors", file(R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]})", data), ErrorKind::BadInput,
        {"'a'", "gap"});
  check("tail.safetensors", file(ok_entry, data + "junk"), ErrorKind::BadInput, {"cover 8 bytes", "holds 12"});
  check("beyond.safetensors", file(R"("a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]})", data),
        ErrorKind::BadInput, {"cover 16 bytes", "holds 8"});
  check("offsets.safetensors", file(R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0]})", data), ErrorKind::BadInput,
        {"data_offsets"});
  check("meta.safetensors", file(ok_entry + R"(,"__metadata__":{"k":1})", data), ErrorKind::BadInput, {"__metadata__"});
  check("overflow.safetensors",
        file(R"("a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]})", data), ErrorKind::BadInput,
        {"'a'"});
}

}  // namespace
}  // namespace pt2onnx::checkpoint
