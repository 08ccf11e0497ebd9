#include "common/npy.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <gmock/gmock.h>

#include <gtest/gtest.h>

#include "pt2onnx/error.h"

namespace pt2onnx {
namespace {

using ::testing::HasSubstr;

std::vector<std::byte> to_bytes(const std::string& s) {
  std::vector<std::byte> out(s.size());
  std::memcpy(out.data(), s.data(), s.size());
  return out;
}

// A .npy file by hand: version, header text (padded by the caller or not), raw data.
std::vector<std::byte> npy_file(int major, const std::string& header, const std::string& data) {
  std::string out = "\x93NUMPY";
  out.push_back(static_cast<char>(major));
  out.push_back('\0');
  const std::size_t len = header.size();
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  for (std::size_t i = 0; i < len_bytes; ++i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  return to_bytes(out + header + data);
}

std::string floats(std::initializer_list<float> values) {
  std::string out(values.size() * sizeof(float), '\0');
  std::memcpy(out.data(), std::data(values), out.size());
  return out;
}

// Parses and returns the error text; fails the test if parsing succeeds.
std::string parse_error(const std::vector<std::byte>& bytes) {
  try {
    (void)parse_npy(bytes, "x.npy");
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "parse_npy accepted a bad file";
  return {};
}

const std::string kHeader23 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";

TEST(Npy, ReadsEveryHeaderVersion) {
  const std::string data = floats({1, 2, 3, 4, 5, 6});
  for (int major : {1, 2, 3}) {
    const Tensor t = parse_npy(npy_file(major, kHeader23, data), "x.npy");
    EXPECT_EQ(t.shape(), (Shape{2, 3})) << "version " << major;
    EXPECT_EQ(t.f32()[5], 6.0f);
  }
}

TEST(Npy, AcceptsKeyOrderQuotesAndOneTuples) {
  const Tensor t = parse_npy(
      npy_file(1, "{\"shape\": (3,), \"fortran_order\": False, \"descr\": \"<f4\"}   \n", floats({7, 8, 9})), "x.npy");
  EXPECT_EQ(t.shape(), (Shape{3}));
  EXPECT_EQ(t.f32()[2], 9.0f);
  const Tensor scalar =
      parse_npy(npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': ()}\n", floats({4})), "s");
  EXPECT_EQ(scalar.rank(), 0U);
  EXPECT_EQ(scalar.f32()[0], 4.0f);
  const Tensor empty = parse_npy(npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5)}\n", ""), "e");
  EXPECT_EQ(empty.numel(), 0);
}

TEST(Npy, EncodesExactlyAsNumpySaves) {
  // Header bytes of numpy 1.24's np.save(np.zeros((2, 3), np.float32)).
  const std::string expected = std::string("\x93NUMPY\x01\x00v\x00", 10) +
                               "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + std::string(58, ' ') +
                               "\n";
  const auto bytes = encode_npy(Tensor(DType::Float32, {2, 3}));
  ASSERT_EQ(bytes.size(), expected.size() + 24);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), expected.size()), expected);

  const auto one = encode_npy(Tensor(DType::Float32, {5}));
  EXPECT_THAT(std::string(reinterpret_cast<const char*>(one.data()), 128), HasSubstr("'shape': (5,), }"));
  EXPECT_EQ(one.size(), 128U + 20U);
}

TEST(Npy, RoundTripsShapesAndValues) {
  for (const Shape& shape : {Shape{}, Shape{1}, Shape{3, 1, 4}, Shape{0, 2}, Shape{123456789012, 0}}) {
    Tensor t(DType::Float32, shape);
    auto v = t.f32();
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i) * 0.5f - 1.0f;
    const auto bytes = encode_npy(t);
    EXPECT_EQ((bytes.size() - v.size_bytes()) % 64, 0U) << shape_to_string(shape);
    const Tensor back = parse_npy(bytes, "rt.npy");
    EXPECT_EQ(back.shape(), shape);
    // std::equal, not memcmp: an empty tensor's data() may be null.
    EXPECT_TRUE(std::equal(back.bytes().begin(), back.bytes().end(), t.bytes().begin(), t.bytes().end()));
  }
}

TEST(Npy, RejectsFortranOrder) {
  EXPECT_THAT(parse_error(npy_file(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n",
                                   floats({1, 2, 3, 4, 5, 6}))),
              HasSubstr("fortran_order is True"));
}

TEST(Npy, RejectsOtherDTypesAndByteOrders) {
  const std::string data(48, '\0');
  EXPECT_THAT(parse_error(npy_file(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }\n", data)),
              HasSubstr("big-endian"));
  EXPECT_THAT(parse_error(npy_file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }\n", data)),
              HasSubstr("dtype '<f8' is not supported"));
  EXPECT_THAT(parse_error(npy_file(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }\n", data)),
              HasSubstr("'|u1'"));
  EXPECT_THAT(parse_error(npy_file(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }\n", data)),
              HasSubstr("structured"));
}

TEST(Npy, RejectsTruncatedAndTrailingData) {
  const std::string e = parse_error(npy_file(1, kHeader23, floats({1, 2, 3, 4, 5})));
  EXPECT_THAT(e, HasSubstr("file x.npy"));
  EXPECT_THAT(e, HasSubstr("truncated data"));
  EXPECT_THAT(e, HasSubstr("needs 24 bytes, the file holds 20"));
  EXPECT_THAT(parse_error(npy_file(1, kHeader23, floats({1, 2, 3, 4, 5, 6, 7}))), HasSubstr("28 bytes of data"));
  // A huge declared shape must fail on the size check, not on allocation.
  EXPECT_THAT(
      parse_error(npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000000000)}\n", "")),
      HasSubstr("truncated data"));
}

TEST(Npy, RejectsBrokenPreambles) {
  EXPECT_THAT(parse_error(to_bytes("PK\x03\x04 not numpy at all")), HasSubstr("magic"));
  EXPECT_THAT(parse_error(to_bytes(std::string("\x93NUMPY\x01", 7))), HasSubstr("magic"));
  EXPECT_THAT(parse_error(npy_file(4, kHeader23, "")), HasSubstr("version 4.0"));
  // Declared header length runs past the end of the file.
  auto b = npy_file(1, kHeader23, "");
  b.resize(b.size() - 5);
  EXPECT_THAT(parse_error(b), HasSubstr("truncated header"));
  auto v2 = npy_file(2, kHeader23, "");
  v2[10] = std::byte{0xff};
  v2[11] = std::byte{0xff};
  EXPECT_THAT(parse_error(v2), HasSubstr("exceeds the limit"));
}

TEST(Npy, RejectsHeaderGarbage) {
  const std::string data = floats({1, 2, 3, 4, 5, 6});
  for (const std::string& header : {
           std::string("not a dict\n"),
           std::string("{'descr': '<f4', 'fortran_order': False}\n"),
           std::string("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}\n"),
           std::string("{'descr': '<f4', 'fortran_order': Nope, 'shape': (2, 3)}\n"),
           std::string("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3)}\n"),
           std::string("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} trailing\n"),
           std::string("{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}\n"),
           std::string("{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3)}\n"),
           std::string("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}\n"),
           std::string("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 1)}\n"),
       }) {
    EXPECT_THAT(parse_error(npy_file(1, header, data)), HasSubstr("malformed header")) << header;
  }
}

TEST(Npy, FilesRoundTripAndErrorsNameThePath) {
  const auto dir = std::filesystem::temp_directory_path() / ("pt2onnx_npy_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "y.npy";
  write_npy(path, make_f32({2, 2}, {1.5f, -2.0f, 0.0f, 3.25f}));
  EXPECT_FALSE(std::filesystem::exists(dir / "y.npy.tmp"));
  const Tensor back = read_npy(path);
  EXPECT_EQ(back.shape(), (Shape{2, 2}));
  EXPECT_EQ(back.f32()[3], 3.25f);

  {
    std::ofstream out(dir / "bad.npy", std::ios::binary);
    out << "garbage";
  }
  try {
    (void)read_npy(dir / "bad.npy");
    ADD_FAILURE() << "read a garbage file";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
    EXPECT_THAT(e.what(), HasSubstr("bad.npy"));
  }
  try {
    (void)read_npy(dir / "missing.npy");
    ADD_FAILURE() << "read a missing file";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Io);
    EXPECT_THAT(e.what(), HasSubstr("missing.npy"));
  }
  EXPECT_THROW(write_npy(dir / "no_such_dir" / "y.npy", back), Error);
  EXPECT_THROW((void)encode_npy(Tensor(DType::Int64, {2})), Error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pt2onnx
