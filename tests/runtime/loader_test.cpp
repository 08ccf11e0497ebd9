// Loader details: Constant nodes in each form, initializers listed as inputs
// (IR version 3), nodes out of order, unnamed nodes, several outputs.
#include <string>

#include "pt2onnx/error.h"
#include "runtime/test_model.h"

namespace pt2onnx::testing {
namespace {

TEST(RuntimeLoader, ConstantNodeForms) {
  ModelBuilder mb(13);
  mb.input("x", {2, 3}).output("y");
  auto& c1 = mb.node("Constant", {}, {"k"});
  auto* a = c1.add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  auto* t = a->mutable_t();
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(3);
  for (float v : {1.0f, 2.0f, 3.0f}) t->add_float_data(v);
  set_float(mb.node("Constant", {}, {"f"}), "value_float", 0.5f);
  auto& c3 = mb.node("Constant", {}, {"shape"});
  set_ints(c3, "value_ints", {3, 2});
  mb.node("Mul", {"x", "k"}, {"m"});
  mb.node("Add", {"m", "f"}, {"a"});
  mb.node("Reshape", {"a", "shape"}, {"y"});
  const auto out = run_model(mb, "constants.onnx", {make_f32({2, 3}, {1, 1, 1, 2, 2, 2})});
  EXPECT_EQ(out[0].shape(), (Shape{3, 2}));
  EXPECT_EQ(values_of(out[0]), (std::vector<float>{1.5f, 2.5f, 3.5f, 2.5f, 4.5f, 6.5f}));
}

TEST(RuntimeLoader, InitializersListedAsInputsAreConstants) {
  ModelBuilder mb;
  mb.input("x", {1, 2}).input("b", {2}).output("y");
  mb.initializer("b", {2}, {10.0f, 20.0f});
  mb.node("Add", {"x", "b"}, {"y"});
  auto model = runtime::Model::load(mb.save("ir3.onnx"));
  ASSERT_EQ(model.inputs().size(), 1u);
  EXPECT_EQ(values_of(model.run({make_f32({1, 2}, {1, 2})})[0]), (std::vector<float>{11, 22}));
}

TEST(RuntimeLoader, NodesOutOfOrderAndUnnamedNodesAndTwoOutputs) {
  ModelBuilder mb;
  mb.input("x", {4}).output("y").output("z");
  mb.node("Sigmoid", {"r"}, {"y"}).clear_name();
  mb.node("Relu", {"x"}, {"r"}).clear_name();
  mb.node("Identity", {"x"}, {"z"});
  const auto out = run_model(mb, "order.onnx", {make_f32({4}, {-1, 0, 1, 2})});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(all_close(values_of(out[0]), {0.5f, 0.5f, 0.7310586f, 0.8807971f}, 1e-6, 1e-6));
  EXPECT_EQ(values_of(out[1]), (std::vector<float>{-1, 0, 1, 2}));
}

TEST(RuntimeLoader, UnnamedNodeIsDescribedByItsOutput) {
  ModelBuilder mb;
  mb.input("x", {1, 3, 4, 4}).output("y");
  mb.initializer("w", {2, 5, 1, 1}, std::vector<float>(10, 1.0f));
  mb.node("Conv", {"x", "w"}, {"y"}).clear_name();
  try {
    runtime::Model::load(mb.save("unnamed.onnx"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Conv node producing 'y'"), std::string::npos) << e.what();
  }
}

TEST(RuntimeLoader, ConstantOutputAndInputOutput) {
  ModelBuilder mb;
  mb.input("x", {2}).output("x").output("k");
  mb.initializer("w", {2}, {3.0f, 4.0f});
  mb.node("Identity", {"w"}, {"k"});
  const auto out = run_model(mb, "passthrough.onnx", {make_f32({2}, {1, 2})});
  EXPECT_EQ(values_of(out[0]), (std::vector<float>{1, 2}));
  EXPECT_EQ(values_of(out[1]), (std::vector<float>{3, 4}));
}

}  // namespace
}  // namespace pt2onnx::testing
