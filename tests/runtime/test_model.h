// Test helpers: tiny ONNX models built with onnx's protobuf classes, written
// to a scratch directory, loaded and run by the runtime; seeded random data;
// a tolerance comparison that reports the first mismatch.
#pragma once

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pt2onnx/error.h"
#include "pt2onnx/runtime.h"
#include "pt2onnx/tensor.h"
#include "runtime/onnx_loader.h"
#include "runtime/planner.h"
#include "support/temp_dir.h"

namespace pt2onnx::testing {

class ModelBuilder {
 public:
  explicit ModelBuilder(int opset = 17) {
    proto.set_ir_version(8);
    proto.set_producer_name("pt2onnx-tests");
    auto* imp = proto.add_opset_import();
    imp->set_domain("");
    imp->set_version(opset);
    proto.mutable_graph()->set_name("test");
  }

  // A float32 input; a negative dim is the symbolic "batch".
  ModelBuilder& input(const std::string& name, const std::vector<std::int64_t>& dims,
                      int elem_type = onnx::TensorProto::FLOAT) {
    auto* in = proto.mutable_graph()->add_input();
    in->set_name(name);
    auto* tt = in->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem_type);
    auto* shape = tt->mutable_shape();
    for (auto d : dims) {
      auto* dim = shape->add_dim();
      if (d < 0) {
        dim->set_dim_param("batch");
      } else {
        dim->set_dim_value(d);
      }
    }
    return *this;
  }

  ModelBuilder& output(const std::string& name) {
    auto* out = proto.mutable_graph()->add_output();
    out->set_name(name);
    out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    return *this;
  }

  onnx::TensorProto& initializer(const std::string& name, const std::vector<std::int64_t>& dims,
                                 const std::vector<float>& values) {
    auto* t = proto.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (auto d : dims) t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
    return *t;
  }

  onnx::TensorProto& initializer_i64(const std::string& name, const std::vector<std::int64_t>& dims,
                                     const std::vector<std::int64_t>& values) {
    auto* t = proto.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    for (auto d : dims) t->add_dims(d);
    for (auto v : values) t->add_int64_data(v);
    return *t;
  }

  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "") {
    auto* n = proto.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? op + "_" + std::to_string(proto.graph().node_size()) : name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return *n;
  }

  // Saved in a directory private to this test process (see support/temp_dir.h).
  std::filesystem::path save(const std::string& file) const {
    static const pt2onnx::testing::TempDir kDir("runtime");
    const auto path = kDir / file;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    proto.SerializeToOstream(&out);
    return path;
  }

  onnx::ModelProto proto;
};

inline void set_int(onnx::NodeProto& n, const std::string& name, std::int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

inline void set_float(onnx::NodeProto& n, const std::string& name, float v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}

inline void set_ints(onnx::NodeProto& n, const std::string& name, const std::vector<std::int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto x : v) a->add_ints(x);
}

inline void set_string(onnx::NodeProto& n, const std::string& name, const std::string& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}

inline std::vector<float> random_values(std::size_t n, std::uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

inline std::int64_t numel(const std::vector<std::int64_t>& dims) {
  std::int64_t n = 1;
  for (auto d : dims) n *= d;
  return n;
}

inline Tensor random_tensor(const std::vector<std::int64_t>& dims, std::uint32_t seed, float lo = -1.0f,
                            float hi = 1.0f) {
  return make_f32(dims, random_values(static_cast<std::size_t>(numel(dims)), seed, lo, hi));
}

inline std::vector<float> values_of(const Tensor& t) { return {t.f32().begin(), t.f32().end()}; }

// Item i of a float32 batch (dim 0), as a batch of one.
inline Tensor batch_item(const Tensor& batch, std::int64_t i) {
  const auto per_item = static_cast<std::ptrdiff_t>(batch.numel() / batch.dim(0));
  const auto begin = batch.f32().begin() + i * per_item;
  std::vector<std::int64_t> dims = batch.shape();
  dims[0] = 1;
  return make_f32(dims, std::vector<float>(begin, begin + per_item));
}

// Passes when every |got - want| <= atol + rtol * |want|; otherwise names the
// first bad element and the count of bad ones.
inline ::testing::AssertionResult all_close(const std::vector<float>& got, const std::vector<float>& want,
                                            double atol = 1e-4, double rtol = 1e-4) {
  if (got.size() != want.size()) {
    return ::testing::AssertionFailure() << "size " << got.size() << " != expected " << want.size();
  }
  std::size_t bad = 0, first = 0;
  double worst = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(got[i]) - static_cast<double>(want[i]));
    const bool ok = diff <= atol + rtol * std::fabs(static_cast<double>(want[i]));
    if (!ok || std::isnan(got[i]) != std::isnan(want[i])) {
      if (bad == 0) first = i;
      ++bad;
    }
    worst = std::max(worst, diff);
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << got.size() << " elements differ; first at " << first
                                       << ": got " << got[first] << ", expected " << want[first] << "; max abs diff "
                                       << worst;
}

inline std::vector<Tensor> run_model(const ModelBuilder& mb, const std::string& file, const std::vector<Tensor>& inputs,
                                     const runtime::Options& options = {}) {
  auto model = runtime::Model::load(mb.save(file), options);
  return model.run(inputs);
}

// "[1, 3, 5]" for trace messages.
inline std::string dims_str(const std::vector<std::int64_t>& d) {
  std::ostringstream s;
  s << "[";
  for (std::size_t i = 0; i < d.size(); ++i) s << (i ? ", " : "") << d[i];
  s << "]";
  return s.str();
}

// Engine options with the graph passes on or off: operator tests run both
// ways, so an operator is checked folded or fused and as itself.
inline runtime::Options with_passes(bool optimize) {
  runtime::Options o;
  o.optimize = optimize;
  return o;
}

// A model file's plan for the given input shapes, with what its constants
// point into kept alive beside it: for tests that read the steps.
struct CompiledPlan {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  std::unique_ptr<runtime::WeightCache> weights = std::make_unique<runtime::WeightCache>(engine);
  std::shared_ptr<runtime::Plan> plan;

  // How many steps run a primitive of this kind.
  [[nodiscard]] int count(dnnl::primitive::kind kind) const {
    int n = 0;
    for (const auto& step : plan->steps) n += step.primitive && step.primitive->get_kind() == kind ? 1 : 0;
    return n;
  }
};
inline CompiledPlan compile_file(const std::string& path, const std::vector<Shape>& input_shapes,
                                 bool optimize = true) {
  CompiledPlan c;
  const auto loaded = runtime::load_onnx_file(path);
  runtime::PlanOptions options;
  options.optimize = optimize;
  c.plan = runtime::compile_plan(loaded.graph, input_shapes, options, c.engine, *c.weights);
  return c;
}

// `fn` throws an Error of `kind` whose message contains `needle`.
template <typename Fn>
void expect_error_kind(Fn&& fn, ErrorKind kind, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "expected an error containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

}  // namespace pt2onnx::testing
