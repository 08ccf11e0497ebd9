#include "verify/structure.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace pt2onnx::verify {
namespace {

void set_shape(onnx::ValueInfoProto* v, const std::string& batch, std::vector<std::int64_t> rest) {
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto_DataType_FLOAT);
  auto* shape = t->mutable_shape();
  if (batch.empty())
    shape->add_dim()->set_dim_value(1);
  else
    shape->add_dim()->set_dim_param(batch);
  for (auto r : rest) shape->add_dim()->set_dim_value(r);
}

// image [batch, 3, 4, 4] -> GlobalAveragePool -> Flatten -> Gemm(3 -> 2) -> logits [batch, 2]
onnx::ModelProto tiny_classifier(const std::string& batch = "batch") {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("tiny");
  set_shape(g->add_input(), batch, {3, 4, 4});
  g->mutable_input(0)->set_name("image");
  set_shape(g->add_output(), batch, {2});
  g->mutable_output(0)->set_name("logits");
  auto* w = g->add_initializer();
  w->set_name("fc.weight");
  w->set_data_type(onnx::TensorProto_DataType_FLOAT);
  w->add_dims(2);
  w->add_dims(3);
  for (int i = 0; i < 6; ++i) w->add_float_data(0.5f);
  auto add = [&](const std::string& op, std::vector<std::string> in, const std::string& out) {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(out);
    for (auto& i : in) n->add_input(i);
    n->add_output(out);
    return n;
  };
  add("GlobalAveragePool", {"image"}, "pool");
  add("Flatten", {"pool"}, "flat");
  auto* gemm = add("Gemm", {"flat", "fc.weight"}, "logits");
  auto* attr = gemm->add_attribute();
  attr->set_name("transB");
  attr->set_type(onnx::AttributeProto_AttributeType_INT);
  attr->set_i(1);
  return m;
}

ExpectedInterface tiny_interface() {
  ExpectedInterface e;
  e.channels = 3;
  e.size = 4;
  e.num_outputs = 2;
  return e;
}

bool mentions(const std::vector<std::string>& lines, const std::string& what) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(what) != std::string::npos; });
}

TEST(Structure, AcceptsTheSeedInterface) {
  const auto r = check_structure(tiny_classifier(), tiny_interface());
  EXPECT_TRUE(r.ok()) << (r.problems.empty() ? "" : r.problems.front());
  EXPECT_EQ(r.opset, 17);
  EXPECT_TRUE(mentions(r.passed, "strict shape inference: input 'image' [batch, 3, 4, 4], output 'logits' [batch, 2]"));
}

TEST(Structure, FixedBatchIsRejected) {
  const auto r = check_structure(tiny_classifier(""), tiny_interface());
  EXPECT_TRUE(mentions(r.problems, "input 'image' is [1, 3, 4, 4], expected [batch, 3, 4, 4]"));
}

TEST(Structure, WrongNamesShapesAndOpsetAreRejected) {
  auto renamed = tiny_classifier();
  renamed.mutable_graph()->mutable_input(0)->set_name("input");
  renamed.mutable_graph()->mutable_node(0)->set_input(0, "input");
  EXPECT_TRUE(mentions(check_structure(renamed, tiny_interface()).problems, "one input 'image'"));

  auto old_opset = tiny_classifier();
  old_opset.mutable_opset_import(0)->set_version(11);
  EXPECT_TRUE(mentions(check_structure(old_opset, tiny_interface()).problems, "opset 11 is outside 13..17"));

  auto e = tiny_interface();
  e.num_outputs = 5;
  EXPECT_TRUE(mentions(check_structure(tiny_classifier(), e).problems, "expected [batch, 5]"));
}

TEST(Structure, DropoutAndTrainingModeNodesAreRejected) {
  auto m = tiny_classifier();
  auto* g = m.mutable_graph();
  auto* d = g->add_node();
  d->set_op_type("Dropout");
  d->set_name("classifier.0");
  d->add_input("flat");
  d->add_output("dropped");
  g->mutable_node(2)->set_input(0, "dropped");
  // Keep topological order: move the Dropout before the Gemm.
  g->mutable_node()->SwapElements(2, 3);
  const auto r = check_structure(m, tiny_interface());
  EXPECT_TRUE(mentions(r.problems, "'classifier.0' (Dropout) is a training-mode node"));
}

TEST(Structure, CheckerFailureIsReported) {
  auto m = tiny_classifier();
  m.mutable_graph()->mutable_node(2)->set_input(1, "missing.weight");
  const auto r = check_structure(m, tiny_interface());
  EXPECT_TRUE(mentions(r.problems, "ONNX checker"));
}

}  // namespace
}  // namespace pt2onnx::verify
