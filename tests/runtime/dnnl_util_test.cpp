#include "runtime/dnnl_util.h"

#include <gtest/gtest.h>

namespace pt2onnx::runtime {
namespace {

// MaxViT's departition at batch 1: its tokens copied into an order in which
// the group rows and columns merge, [1, C, groups down, rows in a group,
// groups across, columns in a group] = [1, 4, 2, 3, 2, 3] with C innermost,
// then reshaped to [1, 4, 6, 6]. A size-1 axis may carry any stride (the
// copy gave the batch 1); the bytes are NHWC's, and the batch must come out
// as the outermost axis (acdb), the layout oneDNN's pooling and convolution
// kernels take: with the batch's stride inside, pooling ran its reference loop.
// (memory::desc's == ignores the strides of size-1 axes, so the strides are compared.)
memory::dims strides_of(const memory::desc& md) {
  const auto& d = md.data;
  return {d.format_desc.blocking.strides, d.format_desc.blocking.strides + d.ndims};
}

TEST(StridedReshape, ABatchOfOneStaysOutermost) {
  const memory::desc six({1, 4, 2, 3, 2, 3}, memory::data_type::f32, memory::dims{1, 1, 72, 24, 12, 4});
  const auto four = strided_reshape(six, {1, 4, 6, 6});
  ASSERT_TRUE(four.has_value());
  EXPECT_EQ(strides_of(*four), (memory::dims{144, 1, 24, 4}));  // acdb
  // The same at batch 2: the batch is outermost by its own stride.
  const memory::desc batched({2, 4, 2, 3, 2, 3}, memory::data_type::f32, memory::dims{144, 1, 72, 24, 12, 4});
  const auto two = strided_reshape(batched, {2, 4, 6, 6});
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(strides_of(*two), (memory::dims{144, 1, 24, 4}));
}

// A plain tensor's reshape stays plain.
TEST(StridedReshape, PlainStaysPlain) {
  const auto view = strided_reshape(plain_md({1, 6, 4}), {1, 2, 3, 4});
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(strides_of(*view), (memory::dims{24, 12, 4, 1}));
}

}  // namespace
}  // namespace pt2onnx::runtime
