// Concat, Softmax, the reshapes (Flatten, Reshape, Squeeze, Unsqueeze) and the
// Shape -> Gather -> Unsqueeze -> Concat -> Reshape chain torch.onnx.export
// writes for x.view(x.size(0), -1), with and without the pass pipeline.
#include <functional>
#include <string>

#include "pt2onnx/error.h"
#include "runtime/naive_ops.h"
#include "runtime/test_model.h"

namespace pt2onnx::testing {
namespace {

runtime::Options unoptimized() {
  runtime::Options o;
  o.optimize = false;
  return o;
}

TEST(RuntimeConcat, ComputedAndConstantInputsOnEveryAxis) {
  const std::vector<std::int64_t> a{2, 3, 4, 5}, b{2, 3, 4, 5};
  const auto x = random_values(120, 1), y = random_values(120, 2), k = random_values(120, 3);
  for (std::int64_t axis : {0, 1, 2, 3, -1}) {
    SCOPED_TRACE("Concat axis " + std::to_string(axis));
    ModelBuilder mb;
    mb.input("x", a).input("y", b).output("z");
    mb.initializer("k", {2, 3, 4, 5}, k);
    auto& n = mb.node("Concat", {"x", "k", "y"}, {"z"});
    set_int(n, "axis", axis);
    const auto out = run_model(mb, "concat.onnx", {make_f32(a, x), make_f32(b, y)});
    const auto ax = static_cast<std::size_t>(axis < 0 ? axis + 4 : axis);
    std::int64_t outer = 1, inner = 1;
    for (std::size_t i = 0; i < ax; ++i) outer *= a[i];
    for (std::size_t i = ax; i < 4; ++i) inner *= a[i];
    std::vector<float> want;
    for (std::int64_t o = 0; o < outer; ++o) {
      for (const auto* src : {&x, &k, &y}) {
        want.insert(want.end(), src->begin() + o * inner, src->begin() + (o + 1) * inner);
      }
    }
    auto dims = a;
    dims[ax] *= 3;
    EXPECT_EQ(out[0].shape(), dims);
    EXPECT_TRUE(all_close(values_of(out[0]), want, 0, 0));
  }
}

TEST(RuntimeConcat, ConvOutputsInChannelsLastLayout) {
  // Two convolutions (oneDNN picks blocked or channels-last layouts) concatenated on channels.
  const auto x = random_values(2 * 3 * 6 * 6, 4);
  const auto w1 = random_values(5 * 3, 5), w2 = random_values(7 * 3, 6);
  ModelBuilder mb;
  mb.input("x", {2, 3, 6, 6}).output("z");
  mb.initializer("w1", {5, 3, 1, 1}, w1);
  mb.initializer("w2", {7, 3, 1, 1}, w2);
  mb.node("Conv", {"x", "w1"}, {"c1"});
  mb.node("Conv", {"x", "w2"}, {"c2"});
  set_int(mb.node("Concat", {"c1", "c2"}, {"z"}), "axis", 1);
  const Conv2d p1{2, 3, 6, 6, 5, 1, 1}, p2{2, 3, 6, 6, 7, 1, 1};
  const auto c1 = naive_conv2d(x, w1, {}, p1), c2 = naive_conv2d(x, w2, {}, p2);
  std::vector<float> want;
  for (int n = 0; n < 2; ++n) {
    want.insert(want.end(), c1.begin() + n * 180, c1.begin() + (n + 1) * 180);
    want.insert(want.end(), c2.begin() + n * 252, c2.begin() + (n + 1) * 252);
  }
  for (int threads : {1, 2, 3}) {
    runtime::Options options;
    options.threads = threads;
    options.adaptive_team = false;
    const auto out = run_model(mb, "concat_conv.onnx", {make_f32({2, 3, 6, 6}, x)}, options);
    EXPECT_TRUE(all_close(values_of(out[0]), want)) << threads << " threads";
  }
}

TEST(RuntimeConcat, ChannelsLastPiecesJoinInTheEnginesLoopWithTheirExactValues) {
  // Three convolutions that write channels-last (oneDNN's choice for 1x1
  // convolutions of these widths), joined on the channels: no concat
  // primitive in the plan, and every value copied exactly, on teams of one
  // to three threads and a batch of three (the pixels of all images in a row).
  const std::vector<std::int64_t> xd{3, 16, 9, 7};
  const auto x = random_values(static_cast<std::size_t>(numel(xd)), 14);
  const std::vector<std::int64_t> widths{16, 48, 32};
  const std::vector<std::string> names{"c0", "c1", "c2"};
  ModelBuilder mb;
  mb.input("x", xd).output("z");
  std::vector<std::string> parts;
  std::vector<std::vector<float>> convs;
  for (std::size_t i = 0; i < widths.size(); ++i) {
    const auto& name = names[i];
    const auto w = random_values(static_cast<std::size_t>(widths[i] * 16), 15 + static_cast<std::uint32_t>(i));
    mb.initializer("w" + name, {widths[i], 16, 1, 1}, w);
    mb.node("Conv", {"x", "w" + name}, {name});
    parts.push_back(name);
    convs.push_back(naive_conv2d(x, w, {}, Conv2d{3, 16, 9, 7, widths[i], 1, 1}));
  }
  set_int(mb.node("Concat", parts, {"z"}), "axis", 1);
  const std::string file = mb.save("concat_channels_last.onnx");
  const auto compiled = compile_file(file, {xd});
  int concats = 0, own_steps = 0;
  for (const auto& step : compiled.plan->steps) {
    own_steps += step.primitive ? 0 : 1;
    concats += step.primitive && step.primitive->get_kind() == dnnl::primitive::kind::concat ? 1 : 0;
  }
  EXPECT_EQ(concats, 0);
  EXPECT_EQ(own_steps, 1);

  std::vector<float> want;
  for (std::size_t n = 0; n < 3; ++n) {
    for (std::size_t i = 0; i < widths.size(); ++i) {
      const auto plane = static_cast<std::size_t>(widths[i] * 63);
      want.insert(want.end(), convs[i].begin() + static_cast<std::ptrdiff_t>(n * plane),
                  convs[i].begin() + static_cast<std::ptrdiff_t>((n + 1) * plane));
    }
  }
  // The same convolutions, unjoined, give the pieces bit for bit.
  ModelBuilder apart;
  apart.input("x", xd);
  for (std::size_t i = 0; i < widths.size(); ++i) {
    const auto& name = names[i];
    apart.output(name);
    apart.initializer("w" + name, {widths[i], 16, 1, 1},
                      random_values(static_cast<std::size_t>(widths[i] * 16), 15 + static_cast<std::uint32_t>(i)));
    apart.node("Conv", {"x", "w" + name}, {name});
  }
  const auto pieces = run_model(apart, "concat_apart.onnx", {make_f32(xd, x)});
  std::vector<float> exact;
  for (std::size_t n = 0; n < 3; ++n) {
    for (std::size_t i = 0; i < widths.size(); ++i) {
      const auto v = values_of(pieces[i]);
      const auto plane = static_cast<std::size_t>(widths[i] * 63);
      exact.insert(exact.end(), v.begin() + static_cast<std::ptrdiff_t>(n * plane),
                   v.begin() + static_cast<std::ptrdiff_t>((n + 1) * plane));
    }
  }
  for (int threads : {1, 2, 3}) {
    runtime::Options options;
    options.threads = threads;
    options.adaptive_team = false;
    options.split_batch = false;
    const auto got = values_of(run_model(mb, "concat_channels_last.onnx", {make_f32(xd, x)}, options)[0]);
    EXPECT_TRUE(all_close(got, want, 1e-5, 1e-5)) << threads << " threads";
    EXPECT_EQ(got, exact) << threads << " threads";
  }
}

TEST(RuntimeSoftmax, Opset13AxisAndOpset11Flattening) {
  const std::vector<std::int64_t> d{2, 3, 4, 5};
  const auto x = random_values(120, 7, -5.0f, 5.0f);
  for (std::int64_t axis : {-1, 1, 0, 2}) {
    SCOPED_TRACE("Softmax opset 13 axis " + std::to_string(axis));
    ModelBuilder mb(13);
    mb.input("x", d).output("y");
    set_int(mb.node("Softmax", {"x"}, {"y"}), "axis", axis);
    const auto ax = static_cast<std::size_t>(axis < 0 ? axis + 4 : axis);
    std::int64_t outer = 1, inner = 1;
    for (std::size_t i = 0; i < ax; ++i) outer *= d[i];
    for (std::size_t i = ax + 1; i < 4; ++i) inner *= d[i];
    const auto out = run_model(mb, "softmax.onnx", {make_f32(d, x)});
    EXPECT_TRUE(all_close(values_of(out[0]), naive_softmax(x, outer, d[ax], inner), 1e-6, 1e-5));
  }
  for (std::int64_t axis : {1, 2}) {
    SCOPED_TRACE("Softmax opset 11 axis " + std::to_string(axis) + " (flattened to 2-D)");
    ModelBuilder mb(11);
    mb.input("x", d).output("y");
    set_int(mb.node("Softmax", {"x"}, {"y"}), "axis", axis);
    std::int64_t rows = 1;
    for (std::size_t i = 0; i < static_cast<std::size_t>(axis); ++i) rows *= d[i];
    const auto out = run_model(mb, "softmax11.onnx", {make_f32(d, x)});
    EXPECT_EQ(out[0].shape(), d);
    EXPECT_TRUE(all_close(values_of(out[0]), naive_softmax(x, rows, 120 / rows, 1), 1e-6, 1e-5));
  }
}

TEST(RuntimeReshape, FlattenAxesReshapeZeroMinusOneSqueezeUnsqueeze) {
  const std::vector<std::int64_t> d{2, 3, 4, 5};
  const auto x = random_values(120, 8);
  struct Case {
    std::string name;
    std::function<void(ModelBuilder&)> build;
    Shape want;
  };
  const std::vector<Case> cases{
      {"Flatten axis 1", [](ModelBuilder& mb) { mb.node("Flatten", {"x"}, {"y"}); }, {2, 60}},
      {"Flatten axis 0", [](ModelBuilder& mb) { set_int(mb.node("Flatten", {"x"}, {"y"}), "axis", 0); }, {1, 120}},
      {"Flatten axis -1", [](ModelBuilder& mb) { set_int(mb.node("Flatten", {"x"}, {"y"}), "axis", -1); }, {24, 5}},
      {"Flatten axis 4", [](ModelBuilder& mb) { set_int(mb.node("Flatten", {"x"}, {"y"}), "axis", 4); }, {120, 1}},
      {"Reshape [0, -1]",
       [](ModelBuilder& mb) {
         mb.initializer_i64("s", {2}, {0, -1});
         mb.node("Reshape", {"x", "s"}, {"y"});
       },
       {2, 60}},
      {"Reshape [-1, 0, 5] (0 copies dim 1)",
       [](ModelBuilder& mb) {
         mb.initializer_i64("s", {3}, {-1, 0, 5});
         mb.node("Reshape", {"x", "s"}, {"y"});
       },
       {8, 3, 5}},
      {"Reshape [6, 20] allowzero",
       [](ModelBuilder& mb) {
         mb.initializer_i64("s", {2}, {6, 20});
         set_int(mb.node("Reshape", {"x", "s"}, {"y"}), "allowzero", 1);
       },
       {6, 20}},
      {"Unsqueeze [0, 5] then Squeeze [0]",
       [](ModelBuilder& mb) {
         mb.initializer_i64("a", {2}, {0, 5});
         mb.initializer_i64("b", {1}, {0});
         mb.node("Unsqueeze", {"x", "a"}, {"u"});
         mb.node("Squeeze", {"u", "b"}, {"y"});
       },
       {2, 3, 4, 5, 1}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    for (bool optimize : {true, false}) {
      ModelBuilder mb;
      mb.input("x", d).output("y");
      c.build(mb);
      runtime::Options o;
      o.optimize = optimize;
      const auto out = run_model(mb, "reshape.onnx", {make_f32(d, x)}, o);
      EXPECT_EQ(out[0].shape(), c.want);
      EXPECT_TRUE(all_close(values_of(out[0]), x, 0, 0));
    }
  }
}

// x.view(x.size(0), -1) after a convolution, as torch.onnx.export writes it,
// followed by a Gemm: the chain folds once the batch is known.
ModelBuilder shape_chain_model() {
  ModelBuilder mb;
  mb.input("x", {-1, 3, 5, 5}).output("y");
  mb.initializer("w", {4, 3, 3, 3}, random_values(108, 20));
  mb.initializer("fc", {6, 36}, random_values(216, 21));
  mb.initializer_i64("zero", {}, {0});
  mb.initializer_i64("minus_one", {1}, {-1});
  mb.node("Conv", {"x", "w"}, {"c"});
  mb.node("Shape", {"c"}, {"shape"});
  mb.node("Gather", {"shape", "zero"}, {"batch"});
  mb.initializer_i64("axes", {1}, {0});
  mb.node("Unsqueeze", {"batch", "axes"}, {"batch1"});
  set_int(mb.node("Concat", {"batch1", "minus_one"}, {"target"}), "axis", 0);
  mb.node("Reshape", {"c", "target"}, {"flat"});
  set_int(mb.node("Gemm", {"flat", "fc"}, {"y"}), "transB", 1);
  return mb;
}

TEST(RuntimeReshape, ShapeGatherUnsqueezeConcatChainFoldsPerBatch) {
  const auto mb = shape_chain_model();
  const Conv2d p{1, 3, 5, 5, 4, 3, 3};
  const auto w = random_values(108, 20), fc = random_values(216, 21);
  for (bool optimize : {true, false}) {
    auto model = runtime::Model::load(mb.save("chain.onnx"), optimize ? runtime::Options{} : unoptimized());
    for (std::int64_t batch : {1, 4, 1}) {
      SCOPED_TRACE("batch " + std::to_string(batch) + (optimize ? " optimized" : " unoptimized"));
      const auto x = random_values(static_cast<std::size_t>(batch * 75), 30 + static_cast<std::uint32_t>(batch));
      auto pb = p;
      pb.n = batch;
      const auto conv = naive_conv2d(x, w, {}, pb);
      const auto want = naive_matmul2d(conv, transpose2d(fc, 6, 36), batch, 36, 6);
      const auto out = model.run({make_f32({batch, 3, 5, 5}, x)});
      EXPECT_EQ(out[0].shape(), (Shape{batch, 6}));
      EXPECT_TRUE(all_close(values_of(out[0]), want));
    }
  }
}

TEST(RuntimePad, ConstantModeAsymmetricPads) {
  struct Case {
    std::vector<std::int64_t> dims, pads;
    float value;
  };
  for (const auto& c : std::vector<Case>{{{1, 2, 3, 4}, {0, 0, 1, 2, 0, 0, 2, 1}, 0.0f},
                                         {{2, 3, 5}, {1, 0, 2, 0, 3, 1}, -1.5f},
                                         {{4}, {2, 3}, 7.0f}}) {
    SCOPED_TRACE("Pad x " + dims_str(c.dims) + " pads " + dims_str(c.pads) + " value " + std::to_string(c.value));
    const auto rank = c.dims.size();
    const auto x = random_values(static_cast<std::size_t>(numel(c.dims)), 15);
    ModelBuilder mb;
    mb.input("x", c.dims).output("y");
    mb.initializer_i64("pads", {static_cast<std::int64_t>(2 * rank)}, c.pads);
    mb.initializer("value", {}, {c.value});
    mb.node("Pad", {"x", "pads", "value"}, {"y"});
    std::vector<std::int64_t> out_dims(rank);
    for (std::size_t i = 0; i < rank; ++i) out_dims[i] = c.dims[i] + c.pads[i] + c.pads[i + rank];
    std::vector<float> want(static_cast<std::size_t>(numel(out_dims)), c.value);
    for (std::int64_t i = 0; i < numel(c.dims); ++i) {
      std::int64_t rest = i, dst = 0, stride = 1;
      for (auto d = rank; d-- > 0;) {
        dst += (rest % c.dims[d] + c.pads[d]) * stride;
        rest /= c.dims[d];
        stride *= out_dims[d];
      }
      want[static_cast<std::size_t>(dst)] = x[static_cast<std::size_t>(i)];
    }
    const auto out = run_model(mb, "pad.onnx", {make_f32(c.dims, x)});
    EXPECT_EQ(out[0].shape(), out_dims);
    EXPECT_TRUE(all_close(values_of(out[0]), want, 0, 0));
  }
}

TEST(RuntimeReshape, IdentityAndDropoutPassThrough) {
  const auto x = random_values(24, 9);
  for (bool optimize : {true, false}) {
    SCOPED_TRACE(optimize ? "optimized" : "unoptimized");
    ModelBuilder mb;
    mb.input("x", {2, 3, 4}).output("y");
    mb.node("Identity", {"x"}, {"i"});
    set_float(mb.node("Dropout", {"i"}, {"y"}), "ratio", 0.4f);
    const auto out =
        run_model(mb, "identity.onnx", {make_f32({2, 3, 4}, x)}, optimize ? runtime::Options{} : unoptimized());
    EXPECT_TRUE(all_close(values_of(out[0]), x, 0, 0));
  }
}

// torch.onnx.export writes a training-mode dropout of p=0 (Swin's attention
// dropout) as Dropout(x, ratio 0, training_mode true): nothing is dropped and
// the scale 1 / (1 - 0) is 1, so it passes through. Any other ratio in training
// mode is random and refused.
TEST(RuntimeReshape, TrainingModeDropoutPassesThroughOnlyAtRatioZero) {
  const auto x = random_values(6, 10);
  auto model = [](float ratio, const std::string& file) {
    ModelBuilder mb;
    mb.input("x", {2, 3}).output("y");
    mb.initializer("ratio", {}, {ratio});
    auto* t = mb.proto.mutable_graph()->add_initializer();
    t->set_name("training");
    t->set_data_type(onnx::TensorProto::BOOL);
    t->set_raw_data(std::string("\1", 1));
    mb.node("Dropout", {"x", "ratio", "training"}, {"y"});
    return mb.save(file);
  };
  for (bool optimize : {true, false}) {
    SCOPED_TRACE(optimize ? "optimized" : "unoptimized");
    auto m = runtime::Model::load(model(0.0f, "dropout_p0.onnx"), optimize ? runtime::Options{} : unoptimized());
    const auto out = m.run({make_f32({2, 3}, x)});
    EXPECT_TRUE(all_close(values_of(out[0]), x, 0, 0));
  }
  try {
    runtime::Model::load(model(0.1f, "dropout_p01.onnx"));
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported) << e.what();
    EXPECT_NE(std::string(e.what()).find("training_mode"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pt2onnx::testing
