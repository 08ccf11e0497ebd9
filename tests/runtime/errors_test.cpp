// Bad models and bad inputs are errors that name the file, node, operator or
// input and say what was expected; never a crash.
#include <fstream>
#include <string>

#include "pt2onnx/error.h"
#include "runtime/onnx_loader.h"
#include "runtime/shape_inference.h"
#include "runtime/support.h"
#include "runtime/test_model.h"

namespace pt2onnx::testing {
namespace {

// Runs fn, expecting an Error of `kind` whose message contains every needle.
template <typename Fn>
void expect_error(Fn&& fn, ErrorKind kind, const std::vector<std::string>& needles) {
  try {
    fn();
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    for (const auto& n : needles)
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << "missing '" << n << "' in: " << e.what();
  }
}

ModelBuilder relu_model() {
  ModelBuilder mb;
  mb.input("image", {-1, 3, 4, 4}).output("y");
  mb.node("Relu", {"image"}, {"y"}, "act");
  return mb;
}

TEST(RuntimeErrors, UnsupportedOperatorNamesNodeAndOp) {
  ModelBuilder mb;
  mb.input("x", {1, 3}).output("y");
  mb.node("Relu", {"x"}, {"r"}, "first");
  mb.node("Hardmax", {"r"}, {"y"}, "mystery_node");
  const auto path = mb.save("unsupported.onnx");
  expect_error([&] { runtime::Model::load(path); }, ErrorKind::Unsupported,
               {"unsupported.onnx", "mystery_node", "Hardmax", "not supported"});
}

TEST(RuntimeErrors, EveryMissingOperatorIsNamedAtOnce) {
  ModelBuilder mb;
  mb.input("x", {1, 3}).output("y");
  mb.node("Relu", {"x"}, {"a"}, "first");
  mb.node("Hardmax", {"a"}, {"b"}, "mix1");
  mb.node("NonMaxSuppression", {"b"}, {"c"}, "nms");
  mb.node("Hardmax", {"c"}, {"d"}, "mix2");
  mb.node("Relu", {"d"}, {"e"}, "custom").set_domain("com.example");
  mb.node("Relu", {"e"}, {"y"}, "last");
  expect_error(
      [&] { runtime::Model::load(mb.save("many_unsupported.onnx")); }, ErrorKind::Unsupported,
      {"many_unsupported.onnx", "these 3 operators are not supported by the engine",
       "Hardmax (2 nodes, the first 'mix1')", "NonMaxSuppression (node 'nms')", "com.example::Relu (node 'custom')"});
}

TEST(RuntimeErrors, CustomDomainOperatorIsUnsupported) {
  ModelBuilder mb;
  mb.input("x", {1, 3}).output("y");
  mb.node("Relu", {"x"}, {"y"}, "custom").set_domain("com.example");
  expect_error([&] { runtime::Model::load(mb.save("domain.onnx")); }, ErrorKind::Unsupported,
               {"com.example::Relu", "custom"});
}

TEST(RuntimeErrors, ShapeOpOnComputedTensorIsUnsupported) {
  ModelBuilder mb;
  mb.input("x", {2, 3}).output("y");
  set_int(mb.node("Cast", {"x"}, {"y"}, "convert"), "to", 1);
  expect_error([&] { runtime::Model::load(mb.save("cast.onnx")); }, ErrorKind::Unsupported, {"convert", "Cast"});
}

TEST(RuntimeErrors, GatherWithComputedIndicesIsUnsupported) {
  {
    // Indices from an int64 graph input: refused by the loader.
    ModelBuilder mb;
    mb.input("x", {2, 3}).input("i", {2}, onnx::TensorProto::INT64).output("y");
    set_int(mb.node("Gather", {"x", "i"}, {"y"}, "pick"), "axis", 1);
    expect_error([&] { runtime::Model::load(mb.save("gather.onnx")); }, ErrorKind::Unsupported, {"'i'", "INT64"});
  }
  // Indices that only a run would know (no loadable model has them today:
  // int64 tensors are constants, shapes, or come from an unsupported Cast).
  ModelBuilder mb;
  mb.input("x", {2, 3}).output("y");
  mb.initializer_i64("i", {2}, {0, 2});
  set_int(mb.node("Gather", {"x", "i"}, {"y"}, "pick"), "axis", 1);
  auto loaded = runtime::load_onnx_file(mb.save("gather_const.onnx"));
  runtime::infer_shapes(loaded.graph);
  EXPECT_NO_THROW(runtime::check_supported(loaded.graph));
  runtime::Value computed;
  computed.name = "computed_i";
  computed.dtype = DType::Int64;
  computed.dims = runtime::Dims{runtime::Dim::known(2)};
  const auto v = loaded.graph.add_value(computed);
  loaded.graph.set_input(loaded.graph.order().at(0), 1, v);
  expect_error([&] { runtime::check_supported(loaded.graph); }, ErrorKind::Unsupported,
               {"pick", "Gather", "'computed_i'", "known before the run"});
}

TEST(RuntimeErrors, UnsupportedVariantsOfNewOperatorsAreRefusedAtLoad) {
  {
    // LayerNormalization's Mean output read by another node.
    ModelBuilder mb;
    mb.input("x", {2, 4}).output("y");
    mb.initializer("scale", {4}, std::vector<float>(4, 1.0f));
    mb.node("LayerNormalization", {"x", "scale"}, {"ln", "mean"}, "norm");
    mb.node("Add", {"ln", "mean"}, {"y"});
    expect_error([&] { runtime::Model::load(mb.save("ln_mean.onnx")); }, ErrorKind::Unsupported,
                 {"ln_mean.onnx", "norm", "LayerNormalization", "Mean output"});
  }
  {
    // InvStdDev as a graph output.
    ModelBuilder mb;
    mb.input("x", {2, 4}).output("y").output("inv");
    mb.initializer("scale", {4}, std::vector<float>(4, 1.0f));
    mb.node("LayerNormalization", {"x", "scale"}, {"y", "", "inv"}, "norm");
    expect_error([&] { runtime::Model::load(mb.save("ln_inv.onnx")); }, ErrorKind::Unsupported,
                 {"norm", "InvStdDev output"});
  }
  {
    ModelBuilder mb;
    mb.input("x", {2, 4}).output("y");
    mb.initializer("scale", {4}, std::vector<float>(4, 1.0f));
    set_int(mb.node("LayerNormalization", {"x", "scale"}, {"y"}, "norm"), "stash_type", 0);
    expect_error([&] { runtime::Model::load(mb.save("ln_stash.onnx")); }, ErrorKind::Unsupported,
                 {"norm", "stash_type 0"});
  }
  {
    // A computed Scale.
    ModelBuilder mb;
    mb.input("x", {2, 4}).input("s", {4}).output("y");
    mb.node("LayerNormalization", {"x", "s"}, {"y"}, "norm");
    expect_error([&] { runtime::Model::load(mb.save("ln_scale.onnx")); }, ErrorKind::Unsupported,
                 {"norm", "Scale 's' must be a constant"});
  }
  {
    ModelBuilder mb;
    mb.input("x", {2, 3, 4}).output("y");
    set_ints(mb.node("Transpose", {"x"}, {"y"}, "flip"), "perm", {0, 2, 2});
    expect_error([&] { runtime::Model::load(mb.save("bad_perm.onnx")); }, ErrorKind::BadInput,
                 {"flip", "Transpose", "perm [0, 2, 2] is not a permutation"});
  }
}

TEST(RuntimeErrors, NonFloatInitializerWhereFloatIsNeeded) {
  ModelBuilder mb;
  mb.input("x", {1, 2, 3, 3}).output("y");
  auto& w = mb.initializer("w", {2, 2, 1, 1}, std::vector<float>(4, 1.0f));
  w.set_data_type(onnx::TensorProto::DOUBLE);
  w.set_raw_data(std::string(4 * sizeof(double), '\0'));
  mb.node("Conv", {"x", "w"}, {"y"}, "double_conv");
  expect_error([&] { runtime::Model::load(mb.save("double.onnx")); }, ErrorKind::Unsupported,
               {"double_conv", "'w'", "float64", "float32"});
}

TEST(RuntimeErrors, NonFloatInputIsUnsupported) {
  ModelBuilder mb;
  mb.input("ids", {1, 3}, onnx::TensorProto::INT64).output("y");
  mb.node("Relu", {"ids"}, {"y"});
  expect_error([&] { runtime::Model::load(mb.save("int_input.onnx")); }, ErrorKind::Unsupported,
               {"input 'ids'", "INT64"});
}

TEST(RuntimeErrors, MissingInitializerNamesTheNodeAndTheName) {
  ModelBuilder mb;
  mb.input("x", {1, 3, 4, 4}).output("y");
  mb.node("Conv", {"x", "conv.weight"}, {"y"}, "features.0");
  expect_error([&] { runtime::Model::load(mb.save("missing.onnx")); }, ErrorKind::BadInput,
               {"features.0", "Conv", "conv.weight", "not a graph input, an initializer"});
}

TEST(RuntimeErrors, InitializerDataInconsistentWithDims) {
  ModelBuilder mb;
  mb.input("x", {1, 4}).output("y");
  mb.initializer("b", {4}, {1.0f, 2.0f, 3.0f});  // 3 values for 4 elements
  mb.node("Add", {"x", "b"}, {"y"});
  expect_error([&] { runtime::Model::load(mb.save("short_raw.onnx")); }, ErrorKind::BadInput,
               {"short_raw.onnx", "tensor 'b'", "raw_data has 12 bytes", "needs 16"});

  ModelBuilder typed;
  typed.input("x", {1, 4}).output("y");
  auto& t = typed.proto.mutable_graph()->add_initializer()[0];
  t.set_name("b");
  t.set_data_type(onnx::TensorProto::FLOAT);
  t.add_dims(4);
  t.add_float_data(1.0f);
  typed.node("Add", {"x", "b"}, {"y"});
  expect_error([&] { runtime::Model::load(typed.save("short_typed.onnx")); }, ErrorKind::BadInput,
               {"tensor 'b'", "has 1 values", "needs 4"});

  ModelBuilder both;
  both.input("x", {1, 1}).output("y");
  auto& t2 = both.initializer("b", {1}, {1.0f});
  t2.add_float_data(1.0f);
  both.node("Add", {"x", "b"}, {"y"});
  expect_error([&] { runtime::Model::load(both.save("both.onnx")); }, ErrorKind::BadInput,
               {"both raw_data and typed data"});

  ModelBuilder negative;
  negative.input("x", {1, 1}).output("y");
  auto& t3 = negative.initializer("b", {1}, {1.0f});
  t3.set_dims(0, -3);
  negative.node("Add", {"x", "b"}, {"y"});
  expect_error([&] { runtime::Model::load(negative.save("negative.onnx")); }, ErrorKind::BadInput,
               {"negative dimension -3"});
}

TEST(RuntimeErrors, MalformedFiles) {
  const pt2onnx::testing::TempDir temp;
  const auto& dir = temp.path();
  const auto garbage = dir / "garbage.onnx";
  std::ofstream(garbage, std::ios::binary) << "this is not a protobuf \xff\xff\xff\xff";
  expect_error([&] { runtime::Model::load(garbage); }, ErrorKind::BadInput, {"garbage.onnx", "not a valid ONNX model"});

  // A real model cut in half.
  std::string bytes;
  relu_model().proto.SerializeToString(&bytes);
  const auto truncated = dir / "truncated.onnx";
  std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  expect_error([&] { runtime::Model::load(truncated); }, ErrorKind::BadInput, {"truncated.onnx"});

  const auto empty = dir / "empty.onnx";
  std::ofstream(empty, std::ios::binary).flush();
  expect_error([&] { runtime::Model::load(empty); }, ErrorKind::BadInput, {"empty.onnx"});

  expect_error([&] { runtime::Model::load(dir / "does_not_exist.onnx"); }, ErrorKind::Io, {"does_not_exist.onnx"});

  ModelBuilder old(5);
  old.input("x", {1}).output("y");
  old.node("Relu", {"x"}, {"y"});
  expect_error([&] { runtime::Model::load(old.save("opset5.onnx")); }, ErrorKind::Unsupported, {"opset 5"});

  ModelBuilder cyclic;
  cyclic.input("x", {1}).output("y");
  cyclic.node("Add", {"x", "b"}, {"a"}, "first");
  cyclic.node("Relu", {"a"}, {"b"}, "second");
  cyclic.node("Relu", {"b"}, {"y"}, "third");
  expect_error([&] { runtime::Model::load(cyclic.save("cycle.onnx")); }, ErrorKind::BadInput, {"cycle"});

  ModelBuilder twice;
  twice.input("x", {1}).output("y");
  twice.node("Relu", {"x"}, {"y"});
  twice.node("Relu", {"x"}, {"y"});
  expect_error([&] { runtime::Model::load(twice.save("twice.onnx")); }, ErrorKind::BadInput, {"'y' is defined twice"});
}

TEST(RuntimeErrors, InconsistentShapesNameTheNode) {
  ModelBuilder mb;
  mb.input("x", {1, 3, 8, 8}).output("y");
  mb.initializer("w", {4, 5, 3, 3}, std::vector<float>(180, 0.1f));
  mb.node("Conv", {"x", "w"}, {"y"}, "bad_conv");
  expect_error([&] { runtime::Model::load(mb.save("channels.onnx")); }, ErrorKind::BadInput,
               {"bad_conv", "3 channels", "expects 5"});
}

// Tiny initializers that broadcast (or pad) to an enormous tensor are refused
// before anything is allocated.
TEST(RuntimeErrors, HugeComputedTensorsAreRefused) {
  ModelBuilder mb;
  mb.input("x", {1}).output("y");
  mb.initializer("a", {100000, 1}, std::vector<float>(100000, 1.0f));
  mb.initializer("b", {1, 100000}, std::vector<float>(100000, 1.0f));
  mb.node("Add", {"a", "b"}, {"big"}, "outer_sum");
  mb.node("Add", {"x", "big"}, {"y"});
  expect_error([&] { runtime::Model::load(mb.save("huge.onnx")); }, ErrorKind::BadInput,
               {"outer_sum", "[100000, 100000]", "elements"});

  ModelBuilder pad;
  pad.input("x", {1, 1, 8, 8}).output("y");
  pad.initializer_i64("pads", {8}, {0, 0, 1000000, 1000000, 0, 0, 1000000, 1000000});
  pad.node("Pad", {"x", "pads"}, {"y"}, "pad_bomb");
  expect_error([&] { runtime::Model::load(pad.save("pad_bomb.onnx")); }, ErrorKind::BadInput, {"pad_bomb", "elements"});
}

TEST(RuntimeErrors, WrongInputsNameTheInputAndWhatWasExpected) {
  auto model = runtime::Model::load(relu_model().save("inputs.onnx"));
  ASSERT_EQ(model.inputs().size(), 1u);
  EXPECT_EQ(model.inputs()[0].name, "image");
  EXPECT_EQ(model.inputs()[0].shape, (Shape{-1, 3, 4, 4}));
  EXPECT_EQ(model.inputs()[0].dim_params[0], "batch");
  EXPECT_EQ(model.outputs()[0].shape, (Shape{-1, 3, 4, 4}));

  const auto good = random_tensor({2, 3, 4, 4}, 1);
  expect_error(
      [&] {
        model.run_named(std::map<std::string, Tensor>{{"img", good}});
      },
      ErrorKind::BadInput, {"no input named 'img'", "image"});
  expect_error([&] { model.run_named(std::map<std::string, Tensor>{}); }, ErrorKind::BadInput,
               {"input 'image' is not given"});
  expect_error(
      [&] {
        model.run({random_tensor({3, 4, 4}, 1)});
      },
      ErrorKind::BadInput, {"input 'image'", "rank 3", "expected rank 4", "[batch, 3, 4, 4]"});
  expect_error(
      [&] {
        model.run({random_tensor({2, 3, 5, 4}, 1)});
      },
      ErrorKind::BadInput, {"input 'image'", "[2, 3, 5, 4]", "dim 2 is 5, expected 4"});
  expect_error(
      [&] {
        model.run({Tensor(DType::Int64, {2, 3, 4, 4})});
      },
      ErrorKind::BadInput, {"input 'image'", "int64", "expected float32"});
  expect_error(
      [&] {
        model.run({Tensor(DType::Float32, {0, 3, 4, 4})});
      },
      ErrorKind::BadInput, {"input 'image'", "dim 0 is 0"});
  expect_error([&] { model.run({good, good}); }, ErrorKind::BadInput, {"takes 1 input(s)", "2 given"});
  // The model still works after the errors.
  const auto out = model.run_named(std::map<std::string, Tensor>{{"image", good}});
  EXPECT_EQ(out[0].shape(), good.shape());
}

}  // namespace
}  // namespace pt2onnx::testing
