#include "runtime/onnx_loader.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <google/protobuf/io/coded_stream.h>

#include "common/onnx_file.h"
#include "runtime/tensor_proto.h"

namespace pt2onnx::runtime {
namespace {

// Default-domain opsets whose semantics for our operators the engine knows.
constexpr std::int64_t kMinOpset = 7;
constexpr std::int64_t kMaxOpset = 18;
// A graph with more nodes than this is not a CNN classifier.
constexpr int kMaxNodes = 1'000'000;

Attribute convert_attribute(const onnx::AttributeProto& proto) {
  Attribute a;
  using AP = onnx::AttributeProto;
  switch (proto.type()) {
    case AP::INT:
      a.type = AttributeType::Int;
      a.i = proto.i();
      break;
    case AP::FLOAT:
      a.type = AttributeType::Float;
      a.f = proto.f();
      break;
    case AP::STRING:
      a.type = AttributeType::String;
      a.s = proto.s();
      break;
    case AP::INTS:
      a.type = AttributeType::Ints;
      a.ints.assign(proto.ints().begin(), proto.ints().end());
      break;
    case AP::FLOATS:
      a.type = AttributeType::Floats;
      a.floats.assign(proto.floats().begin(), proto.floats().end());
      break;
    case AP::TENSOR:
      a.type = AttributeType::Tensor;
      a.tensor = std::make_shared<const Tensor>(tensor_from_proto(proto.t()));
      break;
    default:
      a.type = AttributeType::Unsupported;
      break;
  }
  return a;
}

// The value of a Constant node, from whichever attribute holds it.
Tensor constant_node_value(const AttributeMap& attrs) {
  if (auto t = attrs.find_tensor("value")) return *t;
  if (auto f = attrs.find_float("value_float")) return make_f32({}, {*f});
  if (auto fs = attrs.find_floats("value_floats")) {
    const auto n = static_cast<std::int64_t>(fs->size());
    return make_f32({n}, *fs);
  }
  auto int_tensor = [](const std::vector<std::int64_t>& v, Shape shape) {
    std::vector<std::byte> bytes(v.size() * sizeof(std::int64_t));
    std::memcpy(bytes.data(), v.data(), bytes.size());
    return Tensor(DType::Int64, std::move(shape), std::move(bytes));
  };
  if (auto i = attrs.find_int("value_int")) return int_tensor({*i}, {});
  if (auto is = attrs.find_ints("value_ints")) return int_tensor(*is, {static_cast<std::int64_t>(is->size())});
  throw_error(ErrorKind::Unsupported,
              "Constant without a value, value_float(s) or value_int(s) attribute (sparse and string constants are "
              "not supported)");
}

class Loader {
 public:
  LoadedGraph load(const onnx::ModelProto& model) {
    check_opset(model);
    const auto& g = model.graph();
    if (g.sparse_initializer_size() != 0) throw_error(ErrorKind::Unsupported, "sparse initializers are not supported");
    if (g.node_size() > kMaxNodes) throw_error(ErrorKind::BadInput, fmt::format("{} nodes is too many", g.node_size()));
    out_.graph.opset = static_cast<int>(opset_);
    for (const auto& init : g.initializer()) add_initializer(init);
    for (const auto& in : g.input()) add_input(in);
    if (out_.inputs.empty() && !constant_inputs_.empty()) {
      throw_error(ErrorKind::Unsupported,
                  fmt::format("every graph input is also an initializer ({}): pt2onnx takes an initializer as a "
                              "constant, which leaves nothing to feed; remove the initializer of the input that "
                              "receives the data",
                              fmt::join(constant_inputs_, ", ")));
    }
    if (out_.inputs.empty()) throw_error(ErrorKind::BadInput, "the graph has no inputs");
    add_nodes(g);
    for (const auto& out : g.output()) {
      auto it = names_.find(out.name());
      if (it == names_.end()) {
        throw_error(ErrorKind::BadInput, fmt::format("graph output '{}' is not computed by any node", out.name()));
      }
      out_.graph.outputs().push_back(it->second);
      out_.output_names.push_back(out.name());
    }
    if (out_.output_names.empty()) throw_error(ErrorKind::BadInput, "the graph has no outputs");
    out_.graph.sort_topologically(ErrorKind::BadInput);
    out_.graph.check(ErrorKind::BadInput);
    return std::move(out_);
  }

 private:
  void check_opset(const onnx::ModelProto& model) {
    for (const auto& imp : model.opset_import()) {
      if (imp.domain().empty() || imp.domain() == "ai.onnx") opset_ = imp.version();
    }
    if (opset_ < 0) throw_error(ErrorKind::BadInput, "the model imports no default-domain opset");
    if (opset_ < kMinOpset || opset_ > kMaxOpset) {
      throw_error(ErrorKind::Unsupported,
                  fmt::format("opset {} is not supported (supported: {} to {})", opset_, kMinOpset, kMaxOpset));
    }
    if (!model.has_graph()) throw_error(ErrorKind::BadInput, "the model has no graph");
  }

  ValueId define(const std::string& name, Value value, const std::string& what) {
    if (name.empty()) throw_error(ErrorKind::BadInput, fmt::format("{} has an empty name", what));
    if (names_.count(name)) throw_error(ErrorKind::BadInput, fmt::format("{} '{}' is defined twice", what, name));
    value.name = out_.graph.unique_value_name(name);
    const auto id = out_.graph.add_value(std::move(value));
    names_[name] = id;
    return id;
  }

  void add_initializer(const onnx::TensorProto& init) {
    Value v;
    auto t = tensor_from_proto(init);
    v.dtype = t.dtype();
    v.dims = dims_from_values(t.shape());
    v.constant = std::make_shared<const Tensor>(std::move(t));
    define(init.name(), std::move(v), "initializer");
  }

  void add_input(const onnx::ValueInfoProto& in) {
    // IR version 3 models list initializers as inputs too; they are constants here.
    if (names_.count(in.name()) && out_.graph.is_constant(names_[in.name()])) {
      constant_inputs_.push_back(fmt::format("'{}'", in.name()));
      return;
    }
    with_error_context(fmt::format("input '{}'", in.name()), [&] {
      if (!in.type().has_tensor_type()) throw_error(ErrorKind::Unsupported, "only tensor inputs are supported");
      const auto& tt = in.type().tensor_type();
      if (tt.elem_type() != onnx::TensorProto::FLOAT) {
        throw_error(ErrorKind::Unsupported, fmt::format("dtype {} is not supported (the engine runs float32)",
                                                        onnx_elem_type_name(tt.elem_type())));
      }
      if (!tt.has_shape()) throw_error(ErrorKind::Unsupported, "has no shape; the engine needs at least its rank");
      TensorInfo info;
      info.name = in.name();
      Dims dims;
      for (const auto& d : tt.shape().dim()) {
        if (d.has_dim_value()) {
          if (d.dim_value() <= 0) {
            throw_error(ErrorKind::BadInput,
                        fmt::format("axis {} has size {}; sizes must be positive", info.shape.size(), d.dim_value()));
          }
          dims.push_back(Dim::known(d.dim_value()));
          info.shape.push_back(d.dim_value());
          info.dim_params.emplace_back();
        } else {
          dims.push_back(Dim::symbol(symbol_for(d.dim_param())));
          info.shape.push_back(-1);
          info.dim_params.push_back(d.dim_param());
        }
      }
      Value v;
      v.dtype = DType::Float32;
      v.dims = dims;
      const auto id = define(in.name(), std::move(v), "input");
      out_.graph.inputs().push_back(id);
      out_.inputs.push_back(std::move(info));
    });
  }

  int symbol_for(const std::string& dim_param) {
    // Dims sharing a dim_param are the same size; an unnamed one is its own.
    if (!dim_param.empty()) {
      for (std::size_t i = 0; i < out_.symbols.size(); ++i) {
        if (out_.symbols[i] == dim_param) return static_cast<int>(i);
      }
    }
    out_.symbols.push_back(dim_param);
    return static_cast<int>(out_.symbols.size() - 1);
  }

  // Every operator the engine lacks, named at once (with how many nodes use
  // it and the first of them), so that a user learns the whole gap from one run.
  static void refuse_unsupported_operators(const onnx::GraphProto& g) {
    struct Missing {
      std::string op;
      int count = 0;
      std::string first;
    };
    std::vector<Missing> missing;
    for (int i = 0; i < g.node_size(); ++i) {
      const auto& np = g.node(i);
      const bool is_constant = (np.domain().empty() || np.domain() == "ai.onnx") && np.op_type() == "Constant";
      if (is_constant || op_type_from_onnx(np.domain(), np.op_type())) continue;
      const auto op = np.domain().empty() ? np.op_type() : fmt::format("{}::{}", np.domain(), np.op_type());
      auto it = std::find_if(missing.begin(), missing.end(), [&](const Missing& m) { return m.op == op; });
      if (it == missing.end()) {
        missing.push_back({op, 0, np.name().empty() ? fmt::format("node #{}", i) : fmt::format("'{}'", np.name())});
        it = std::prev(missing.end());
      }
      ++it->count;
    }
    if (missing.empty()) return;
    std::vector<std::string> parts;
    for (const auto& m : missing) {
      parts.push_back(m.count == 1 ? fmt::format("{} (node {})", m.op, m.first)
                                   : fmt::format("{} ({} nodes, the first {})", m.op, m.count, m.first));
    }
    throw_error(
        ErrorKind::Unsupported,
        fmt::format("{} not supported by the engine: {}",
                    missing.size() == 1 ? "this operator is" : fmt::format("these {} operators are", missing.size()),
                    fmt::join(parts, ", ")));
  }

  void add_nodes(const onnx::GraphProto& g) {
    // Outputs first, so that a file whose nodes are out of order still loads
    // (the order is re-derived); then inputs are resolved by name.
    struct Pending {
      NodeId id;
      const onnx::NodeProto* proto;
    };
    refuse_unsupported_operators(g);
    std::vector<Pending> pending;
    for (int i = 0; i < g.node_size(); ++i) {
      const auto& np = g.node(i);
      const auto where = np.name().empty() ? fmt::format("node #{} ({})", i, np.op_type())
                                           : fmt::format("node '{}' ({})", np.name(), np.op_type());
      with_error_context(where, [&] {
        const auto op = op_type_from_onnx(np.domain(), np.op_type());
        const bool is_constant = (np.domain().empty() || np.domain() == "ai.onnx") && np.op_type() == "Constant";
        if (!op && !is_constant) {
          throw_error(ErrorKind::Unsupported,
                      np.domain().empty() ? fmt::format("operator {} is not supported", np.op_type())
                                          : fmt::format("operator {}::{} is not supported", np.domain(), np.op_type()));
        }
        AttributeMap attrs;
        for (const auto& a : np.attribute()) {
          if (!a.ref_attr_name().empty()) throw_error(ErrorKind::Unsupported, "attribute references are not supported");
          attrs.set(a.name(), convert_attribute(a));
        }
        if (is_constant) {
          if (np.output_size() != 1) throw_error(ErrorKind::BadInput, "Constant must have one output");
          Value v;
          auto t = constant_node_value(attrs);
          v.dtype = t.dtype();
          v.dims = dims_from_values(t.shape());
          v.constant = std::make_shared<const Tensor>(std::move(t));
          define(np.output(0), std::move(v), "value");
          return;
        }
        Node node;
        node.name = np.name();
        node.op = *op;
        node.attrs = std::move(attrs);
        for (const auto& out : np.output()) {
          // An empty name is an optional output the model does not use.
          if (out.empty()) {
            Value v;
            v.name = out_.graph.unique_value_name(fmt::format("{}_unused", np.name()));
            node.outputs.push_back(out_.graph.add_value(std::move(v)));
          } else {
            node.outputs.push_back(define(out, Value{}, "value"));
          }
        }
        pending.push_back({out_.graph.add_node(std::move(node)), &np});
      });
    }
    for (const auto& p : pending) {
      std::vector<ValueId> inputs;
      for (const auto& in : p.proto->input()) {
        if (in.empty()) {
          inputs.push_back(kNoValue);
          continue;
        }
        auto it = names_.find(in);
        if (it == names_.end()) {
          throw_error(ErrorKind::BadInput,
                      fmt::format("{}: input '{}' is not a graph input, an initializer or any node's output",
                                  out_.graph.describe(p.id), in));
        }
        inputs.push_back(it->second);
      }
      out_.graph.set_inputs(p.id, std::move(inputs));
    }
  }

  LoadedGraph out_;
  std::map<std::string, ValueId> names_;
  std::vector<std::string> constant_inputs_;  // graph inputs that are initializers too
  std::int64_t opset_ = -1;
};

}  // namespace

LoadedGraph load_onnx_bytes(std::span<const std::byte> bytes, const std::string& source) {
  const auto model = parse_onnx_model(bytes, source);
  return with_error_context(source, [&] { return Loader().load(model); });
}

LoadedGraph load_onnx_file(const std::filesystem::path& path) {
  const auto model = read_onnx_model(path);
  return with_error_context(fmt::format("file {}", path.string()), [&] { return Loader().load(model); });
}

}  // namespace pt2onnx::runtime
