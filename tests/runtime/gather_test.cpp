// Gather of a computed tensor with indices known before the run, against
// naive_gather (naive_ops.h): scalar and 1-D and 2-D indices, negative
// indices, axes 0, 1, inner and last, at two batch sizes of a dynamic-batch
// model; and the x[:, c] * scale + shift pattern of torchvision's
// transform_input (Inception v3, GoogLeNet) feeding a Conv.
#include <string>

#include "runtime/naive_ops.h"
#include "runtime/test_model.h"

namespace pt2onnx::testing {
namespace {

runtime::Options no_passes() {
  runtime::Options o;
  o.optimize = false;
  return o;
}

TEST(RuntimeGather, OfAnActivationMatchesNaive) {
  struct Case {
    std::int64_t axis;
    std::vector<std::int64_t> index_dims, indices;
  };
  const std::vector<Case> cases{
      {1, {}, {3}},                 // x[:, 3]
      {1, {}, {-1}},                // x[:, -1]
      {0, {3}, {1, 0, -1}},         // rows of the batch (batch 2)
      {0, {}, {-2}},                // x[-2] drops the batch axis
      {2, {2, 2}, {0, 4, -3, 2}},   // 2-D indices
      {-1, {3}, {3, -4, 2}},        // last axis
      {3, {1}, {0}},                // a 1-D index keeps the axis
      {-3, {5}, {7, 0, 7, -8, 1}},  // repeats
  };
  const std::vector<std::int64_t> xd{2, 3, 5, 4};
  const std::vector<std::int64_t> cd{2, 8, 5, 4};
  const auto x = random_values(static_cast<std::size_t>(numel(xd)), 31);
  const auto w = random_values(8 * 3, 32);
  const auto c = naive_conv2d(x, w, {}, Conv2d{2, 3, 5, 4, 8, 1, 1});
  for (const auto& k : cases) {
    const auto a = static_cast<std::size_t>(k.axis < 0 ? k.axis + 4 : k.axis);
    std::vector<std::int64_t> want_dims(cd.begin(), cd.begin() + static_cast<std::ptrdiff_t>(a));
    want_dims.insert(want_dims.end(), k.index_dims.begin(), k.index_dims.end());
    want_dims.insert(want_dims.end(), cd.begin() + static_cast<std::ptrdiff_t>(a) + 1, cd.end());
    for (bool optimize : {true, false}) {
      SCOPED_TRACE("axis " + std::to_string(k.axis) + " indices " + dims_str(k.indices) + " of shape " +
                   dims_str(k.index_dims) + (optimize ? "" : " unoptimized"));
      ModelBuilder mb;
      mb.input("x", {-1, 3, 5, 4}).output("y");
      mb.initializer("w", {8, 3, 1, 1}, w);
      mb.node("Conv", {"x", "w"}, {"c"});
      mb.initializer_i64("i", k.index_dims, k.indices);
      set_int(mb.node("Gather", {"c", "i"}, {"y"}), "axis", k.axis);
      const auto out = run_model(mb, "gather.onnx", {make_f32(xd, x)}, optimize ? runtime::Options{} : no_passes());
      EXPECT_EQ(out[0].shape(), want_dims);
      EXPECT_TRUE(all_close(values_of(out[0]), naive_gather(c, cd, k.axis, k.indices)));
    }
  }
}

TEST(RuntimeGather, TransformInputPatternMatchesNaiveAtEveryBatch) {
  // torchvision's _transform_input as torch.onnx.export emits it: per channel
  // c, Gather(x, c, axis 1) -> Unsqueeze(1) -> Mul(scale) -> Add(shift), the
  // three concatenated on axis 1 and fed to a Conv; dynamic batch.
  const float scale[3] = {0.458f, 0.448f, 0.450f};
  const float shift[3] = {-0.030f, -0.088f, -0.188f};
  const auto w = random_values(4 * 3 * 3 * 3, 41);
  ModelBuilder mb;
  mb.input("x", {-1, 3, 6, 5}).output("y");
  mb.initializer("w", {4, 3, 3, 3}, w);
  mb.initializer_i64("axes", {1}, {1});
  std::vector<std::string> parts;
  for (int ch = 0; ch < 3; ++ch) {
    const auto s = std::to_string(ch);
    mb.initializer_i64("i" + s, {}, {ch});
    mb.initializer("scale" + s, {}, {scale[ch]});
    mb.initializer("shift" + s, {}, {shift[ch]});
    set_int(mb.node("Gather", {"x", "i" + s}, {"g" + s}), "axis", 1);
    mb.node("Unsqueeze", {"g" + s, "axes"}, {"u" + s});
    mb.node("Mul", {"u" + s, "scale" + s}, {"m" + s});
    mb.node("Add", {"m" + s, "shift" + s}, {"a" + s});
    parts.push_back("a" + s);
  }
  set_int(mb.node("Concat", parts, {"t"}), "axis", 1);
  mb.node("Conv", {"t", "w"}, {"y"});
  for (std::int64_t batch : {1, 3}) {
    for (bool optimize : {true, false}) {
      SCOPED_TRACE("batch " + std::to_string(batch) + (optimize ? "" : " unoptimized"));
      const std::vector<std::int64_t> xd{batch, 3, 6, 5};
      const auto x = random_values(static_cast<std::size_t>(numel(xd)), 42 + static_cast<std::uint32_t>(batch));
      auto t = x;
      for (std::int64_t n = 0; n < batch; ++n) {
        for (std::int64_t ch = 0; ch < 3; ++ch) {
          for (std::int64_t p = 0; p < 30; ++p) {
            auto& v = t[static_cast<std::size_t>((n * 3 + ch) * 30 + p)];
            v = v * scale[ch] + shift[ch];
          }
        }
      }
      const auto out =
          run_model(mb, "transform_input.onnx", {make_f32(xd, x)}, optimize ? runtime::Options{} : no_passes());
      EXPECT_EQ(out[0].shape(), (std::vector<std::int64_t>{batch, 4, 4, 3}));
      EXPECT_TRUE(all_close(values_of(out[0]), naive_conv2d(t, w, {}, Conv2d{batch, 3, 6, 5, 4, 3, 3})));
    }
  }
}

}  // namespace
}  // namespace pt2onnx::testing
