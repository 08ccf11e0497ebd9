#include "pt2onnx/tensor.h"

#include <cmath>
#include <cstring>
#include <limits>

#include <gtest/gtest.h>

#include "pt2onnx/error.h"

namespace pt2onnx {
namespace {

TEST(DType, HalfToFloatIsExactOnEveryClassOfValue) {
  EXPECT_EQ(half_to_float(0x0000), 0.0f);
  EXPECT_TRUE(std::signbit(half_to_float(0x8000)));
  EXPECT_EQ(half_to_float(0x3c00), 1.0f);
  EXPECT_EQ(half_to_float(0xc000), -2.0f);
  EXPECT_EQ(half_to_float(0x3555), 0.333251953125f);
  EXPECT_EQ(half_to_float(0x7bff), 65504.0f);               // largest normal
  EXPECT_EQ(half_to_float(0x0400), std::ldexp(1.0f, -14));  // smallest normal
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(half_to_float(0x03ff), std::ldexp(1023.0f, -24));
  EXPECT_TRUE(std::isinf(half_to_float(0x7c00)));
  EXPECT_TRUE(std::isnan(half_to_float(0x7e00)));
}

TEST(DType, BFloat16ToFloatKeepsTheHighHalf) {
  EXPECT_EQ(bfloat16_to_float(0x3f80), 1.0f);
  EXPECT_EQ(bfloat16_to_float(0xc0a0), -5.0f);
  EXPECT_EQ(bfloat16_to_float(0x3eab), 0.333984375f);
  EXPECT_TRUE(std::isinf(bfloat16_to_float(0xff80)));
}

TEST(DType, NamesRoundTrip) {
  for (auto d : {DType::Float32, DType::Float16, DType::BFloat16, DType::Float64, DType::Int64, DType::Int32,
                 DType::Int16, DType::Int8, DType::UInt8, DType::Bool}) {
    EXPECT_EQ(dtype_from_name(dtype_name(d)), d);
  }
  EXPECT_FALSE(dtype_from_name("complex64").has_value());
}

TEST(Tensor, SumAndConversionCoverEveryDType) {
  std::vector<std::byte> half(4);
  const std::uint16_t h[2] = {0x3c00, 0xc000};  // 1, -2
  std::memcpy(half.data(), h, 4);
  Tensor t(DType::Float16, {2}, half);
  EXPECT_EQ(t.sum(), -1.0);
  auto f = t.to_float32();
  EXPECT_EQ(f.f32()[0], 1.0f);
  EXPECT_EQ(f.f32()[1], -2.0f);

  std::vector<std::byte> flags{std::byte{1}, std::byte{0}, std::byte{7}};
  EXPECT_EQ(Tensor(DType::Bool, {3}, flags).sum(), 2.0);
}

TEST(Tensor, RejectsBadShapes) {
  EXPECT_THROW(Tensor(DType::Float32, {-1}), Error);
  EXPECT_THROW(shape_numel({1 << 30, 1 << 30, 1 << 30}), Error);
  EXPECT_THROW(Tensor(DType::Float32, {2}, std::vector<std::byte>(4)), Error);
  EXPECT_EQ(shape_numel({}), 1);
  EXPECT_EQ(shape_to_string({32, 3, 3, 3}), "[32, 3, 3, 3]");
}

TEST(Error, ContextReadsFromTheOutsideIn) {
  Error e(ErrorKind::BadInput, "unknown opcode 0xff");
  e.with_context("offset 12").with_context("entry archive/data.pkl").with_context("file model.pth");
  EXPECT_STREQ(e.what(), "file model.pth: entry archive/data.pkl: offset 12: unknown opcode 0xff");
  EXPECT_EQ(e.kind(), ErrorKind::BadInput);
}

TEST(TensorRows, TakeRowsGathersInTheOrderGiven) {
  const auto t = make_f32({3, 2}, {1, 2, 3, 4, 5, 6});
  const auto picked = take_rows(t, {2, 0, 2});
  EXPECT_EQ(picked.shape(), (Shape{3, 2}));
  EXPECT_EQ(std::vector<float>(picked.f32().begin(), picked.f32().end()), (std::vector<float>{5, 6, 1, 2, 5, 6}));
  EXPECT_THROW((void)take_rows(t, {3}), Error);
}

TEST(TensorRows, ConcatRowsJoinsPartsOfAnyRowCount) {
  const auto a = make_f32({1, 2, 1}, {1, 2});
  const auto b = make_f32({2, 2, 1}, {3, 4, 5, 6});
  const auto joined = concat_rows({&a, &b, &a});
  EXPECT_EQ(joined.shape(), (Shape{4, 2, 1}));
  EXPECT_EQ(std::vector<float>(joined.f32().begin(), joined.f32().end()), (std::vector<float>{1, 2, 3, 4, 5, 6, 1, 2}));
  const auto other = make_f32({1, 3, 1}, {1, 2, 3});
  EXPECT_THROW((void)concat_rows({&a, &other}), Error);
  EXPECT_THROW((void)concat_rows({}), Error);
}

}  // namespace
}  // namespace pt2onnx
