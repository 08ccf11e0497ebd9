#include "checkpoint/tensor_rebuild.h"

#include <cstring>
#include <numeric>

#include <gtest/gtest.h>

#include "checkpoint_test_util.h"

namespace pt2onnx::checkpoint {
namespace {

using testing::expect_error;

// A loaded storage holding 0, 1, 2, ... as `dtype`.
std::shared_ptr<StorageData> iota_storage(DType dtype, std::int64_t n) {
  auto s = std::make_shared<StorageData>();
  s->key = std::string(1, '0');  // (= "0" trips GCC 12's -Wrestrict false positive)
  s->dtype = dtype;
  s->numel = n;
  s->bytes.resize(static_cast<std::size_t>(n) * dtype_size(dtype));
  for (std::int64_t i = 0; i < n; ++i) {
    std::byte* p = s->bytes.data() + static_cast<std::size_t>(i) * dtype_size(dtype);
    switch (dtype) {
      case DType::Float32: {
        float v = static_cast<float>(i);
        std::memcpy(p, &v, 4);
        break;
      }
      case DType::Float64: {
        double v = static_cast<double>(i);
        std::memcpy(p, &v, 8);
        break;
      }
      case DType::Int64: {
        std::int64_t v = i;
        std::memcpy(p, &v, 8);
        break;
      }
      case DType::Int32: {
        auto v = static_cast<std::int32_t>(i);
        std::memcpy(p, &v, 4);
        break;
      }
      case DType::Int16: {
        auto v = static_cast<std::int16_t>(i);
        std::memcpy(p, &v, 2);
        break;
      }
      case DType::Float16: {
        // Small integers in IEEE half precision.
        static constexpr std::uint16_t kHalves[] = {0x0000, 0x3c00, 0x4000, 0x4200, 0x4400, 0x4500,
                                                    0x4600, 0x4700, 0x4800, 0x4880, 0x4900, 0x4980};
        std::memcpy(p, &kHalves[i % 12], 2);
        break;
      }
      case DType::BFloat16: {
        float f = static_cast<float>(i);
        std::uint32_t bits = 0;
        std::memcpy(&bits, &f, 4);
        const auto v = static_cast<std::uint16_t>(bits >> 16);  // exact for small integers
        std::memcpy(p, &v, 2);
        break;
      }
      case DType::Int8:
      case DType::UInt8:
        *p = static_cast<std::byte>(i);
        break;
      case DType::Bool:
        *p = static_cast<std::byte>(i % 2);
        break;
    }
  }
  s->loaded = true;
  return s;
}

std::vector<double> values(const Tensor& t) {
  std::vector<double> out;
  for (std::int64_t i = 0; i < t.numel(); ++i) out.push_back(t.element_as_double(i));
  return out;
}

Tensor rebuild(const std::shared_ptr<StorageData>& s, std::int64_t offset, Shape size, Shape stride) {
  return materialize_view(make_tensor_view(StorageRef{s, 0, s->numel}, offset, std::move(size), std::move(stride)));
}

TEST(TensorRebuild, ContiguousWithOffset) {
  auto s = iota_storage(DType::Float32, 12);
  auto t = rebuild(s, 2, {2, 3}, {3, 1});
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(values(t), (std::vector<double>{2, 3, 4, 5, 6, 7}));
}

TEST(TensorRebuild, StridedViewsAreMaterialised) {
  auto s = iota_storage(DType::Float32, 12);                                                   // as a [3, 4] matrix
  EXPECT_EQ(values(rebuild(s, 0, {3, 2}, {4, 2})), (std::vector<double>{0, 2, 4, 6, 8, 10}));  // t[:, ::2]
  EXPECT_EQ(values(rebuild(s, 0, {4, 3}, {1, 4})),
            (std::vector<double>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));                     // t.t()
  EXPECT_EQ(values(rebuild(s, 5, {2, 2}, {4, 1})), (std::vector<double>{5, 6, 9, 10}));       // t[1:, 1:3]
  EXPECT_EQ(values(rebuild(s, 3, {2, 3}, {0, 1})), (std::vector<double>{3, 4, 5, 3, 4, 5}));  // expand
  EXPECT_EQ(values(rebuild(s, 7, {}, {})), (std::vector<double>{7}));                         // scalar
  EXPECT_EQ(rebuild(s, 12, {0, 5}, {5, 1}).numel(), 0);                                       // empty at the end
  EXPECT_EQ(values(rebuild(s, 0, {2, 1, 2}, {6, 100, 3})),
            (std::vector<double>{0, 3, 6, 9}));  // size-1 dim, any stride
}

TEST(TensorRebuild, EveryDTypeKeepsItsBytes) {
  for (auto dtype : {DType::Float32, DType::Float16, DType::BFloat16, DType::Float64, DType::Int64, DType::Int32,
                     DType::Int16, DType::Int8, DType::UInt8, DType::Bool}) {
    SCOPED_TRACE(std::string(dtype_name(dtype)));
    auto s = iota_storage(dtype, 6);
    auto t = rebuild(s, 0, {3}, {2});
    EXPECT_EQ(t.dtype(), dtype);
    if (dtype != DType::Bool) {
      EXPECT_EQ(values(t), (std::vector<double>{0, 2, 4}));
    }
    for (std::int64_t i = 0; i < 3; ++i) {
      EXPECT_EQ(std::memcmp(t.bytes().data() + i * static_cast<std::int64_t>(dtype_size(dtype)),
                            s->bytes.data() + 2 * i * static_cast<std::int64_t>(dtype_size(dtype)), dtype_size(dtype)),
                0);
    }
  }
}

TEST(TensorRebuild, OutOfRangeViewsAreRejectedBeforeReading) {
  auto s = iota_storage(DType::Float32, 12);
  StorageRef ref{s, 0, 12};
  expect_error([&] { make_tensor_view(ref, 0, {13}, {1}); }, ErrorKind::BadInput,
               {"element 12 is past the end", "'0'"});
  expect_error([&] { make_tensor_view(ref, 10, {3}, {1}); }, ErrorKind::BadInput, {"past the end"});
  expect_error([&] { make_tensor_view(ref, 0, {3, 4}, {5, 1}); }, ErrorKind::BadInput, {"past the end"});
  expect_error([&] { make_tensor_view(ref, 13, {0}, {1}); }, ErrorKind::BadInput, {"offset past the end"});
  expect_error([&] { make_tensor_view(ref, -1, {1}, {1}); }, ErrorKind::BadInput, {"negative storage offset"});
  expect_error([&] { make_tensor_view(ref, 0, {-1}, {1}); }, ErrorKind::BadInput, {"negative size"});
  expect_error([&] { make_tensor_view(ref, 0, {2}, {-1}); }, ErrorKind::BadInput, {"negative stride"});
  expect_error([&] { make_tensor_view(ref, 0, {2, 2}, {1}); }, ErrorKind::BadInput, {"different ranks"});
  expect_error([&] { make_tensor_view(ref, 0, {1LL << 40, 1LL << 40}, {0, 0}); }, ErrorKind::BadInput, {"overflows"});
  expect_error([&] { make_tensor_view(ref, 0, {2}, {1LL << 62}); }, ErrorKind::BadInput, {"past the end"});
  expect_error([&] { make_tensor_view(ref, 1LL << 62, {3}, {1LL << 62}); }, ErrorKind::BadInput, {"overflows"});
}

TEST(TensorRebuild, SharedStorageIsCopiedForEachTensor) {
  auto s = iota_storage(DType::Int64, 8);
  auto a = std::make_shared<TensorData>();
  a->pending = make_tensor_view(StorageRef{s, 0, 8}, 0, {8}, {1});
  auto b = std::make_shared<TensorData>();
  b->pending = make_tensor_view(StorageRef{s, 0, 8}, 4, {2}, {2});
  s.reset();
  materialize_tensors({a, b}, default_copy_budget(64));
  EXPECT_EQ(values(*a->tensor), (std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(values(*b->tensor), (std::vector<double>{4, 6}));
  EXPECT_FALSE(a->pending.has_value());
}

TEST(TensorRebuild, SoleWholeViewTakesTheStorageBytes) {
  auto s = iota_storage(DType::Float32, 4);
  const std::byte* data = s->bytes.data();
  auto a = std::make_shared<TensorData>();
  a->pending = make_tensor_view(StorageRef{s, 0, 4}, 0, {2, 2}, {2, 1});
  s.reset();
  materialize_tensors({a}, default_copy_budget(16));
  EXPECT_EQ(a->tensor->bytes().data(), data);  // moved, not copied
  EXPECT_EQ(values(*a->tensor), (std::vector<double>{0, 1, 2, 3}));
}

TEST(TensorRebuild, BroadcastViewsCannotBlowUpMemory) {
  // One float seen as 2^40 of them (stride 0): valid geometry, but 4 TiB to materialise.
  auto s = iota_storage(DType::Float32, 1);
  auto a = std::make_shared<TensorData>();
  a->pending = make_tensor_view(StorageRef{s, 0, 1}, 0, {1LL << 20, 1LL << 20}, {0, 0});
  auto b = std::make_shared<TensorData>();
  b->pending = make_tensor_view(StorageRef{s, 0, 1}, 0, {1000}, {0});
  expect_error(
      [&] {
        materialize_tensors({a, b}, default_copy_budget(4));
      },
      ErrorKind::BadInput, {"size [1048576, 1048576]", "more than"});
  s.reset();
  a.reset();
  materialize_tensors({b}, default_copy_budget(4));  // a modest broadcast is fine
  EXPECT_EQ(b->tensor->numel(), 1000);
}

TEST(TensorRebuild, UnreadStorageIsAnError) {
  auto s = iota_storage(DType::Float32, 4);
  s->loaded = false;
  auto view = make_tensor_view(StorageRef{s, 0, 4}, 0, {4}, {1});
  expect_error([&] { (void)materialize_view(view); }, ErrorKind::BadInput, {"no data"});
}

TEST(TensorRebuild, ByteswapReversesEachElement) {
  std::vector<std::byte> b{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
  byteswap_elements(b, 2);
  EXPECT_EQ(b, (std::vector<std::byte>{std::byte{2}, std::byte{1}, std::byte{4}, std::byte{3}}));
}

}  // namespace
}  // namespace pt2onnx::checkpoint
