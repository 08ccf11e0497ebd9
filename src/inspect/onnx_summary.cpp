#include "inspect/onnx_summary.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/onnx_file.h"
#include "exporter/onnx_shapes.h"

namespace pt2onnx::inspect {
namespace fs = std::filesystem;
using exporter::describe_elem_type;
namespace {

nlohmann::json shape_json(const onnx::TypeProto& type) {
  if (!type.has_tensor_type() || !type.tensor_type().has_shape()) return nullptr;
  auto dims = nlohmann::json::array();
  for (const auto& d : type.tensor_type().shape().dim()) {
    if (d.has_dim_value()) {
      dims.push_back(d.dim_value());
    } else if (d.has_dim_param() && !d.dim_param().empty()) {
      dims.push_back(d.dim_param());
    } else {
      dims.push_back(nullptr);
    }
  }
  return dims;
}

nlohmann::json value_info_json(const onnx::ValueInfoProto& vi) {
  const auto& type = vi.type();
  return {{"name", vi.name()},
          {"dtype", type.has_tensor_type() ? describe_elem_type(type.tensor_type().elem_type()) : "non-tensor"},
          {"shape", shape_json(type)}};
}

std::uint64_t element_size(std::int32_t elem_type) {
  using T = onnx::TensorProto_DataType;
  switch (elem_type) {
    case T::TensorProto_DataType_DOUBLE:
    case T::TensorProto_DataType_INT64:
    case T::TensorProto_DataType_UINT64:
    case T::TensorProto_DataType_COMPLEX64:
      return 8;
    case T::TensorProto_DataType_FLOAT:
    case T::TensorProto_DataType_INT32:
    case T::TensorProto_DataType_UINT32:
      return 4;
    case T::TensorProto_DataType_FLOAT16:
    case T::TensorProto_DataType_BFLOAT16:
    case T::TensorProto_DataType_INT16:
    case T::TensorProto_DataType_UINT16:
      return 2;
    case T::TensorProto_DataType_COMPLEX128:
      return 16;
    default:
      return 1;
  }
}

// Bytes of the tensor's values as stored in the file (raw or typed fields).
std::uint64_t stored_bytes(const onnx::TensorProto& t) {
  if (t.has_raw_data()) return t.raw_data().size();
  const auto count = [](int n) { return static_cast<std::uint64_t>(n); };
  const auto n = count(t.float_data_size()) + count(t.int32_data_size()) + count(t.int64_data_size()) +
                 count(t.double_data_size()) + count(t.uint64_data_size());
  return n * element_size(t.data_type());
}

std::string dims_text(const nlohmann::json& shape) {
  if (shape.is_null()) return "unknown shape";
  std::vector<std::string> parts;
  for (const auto& d : shape) parts.push_back(d.is_null() ? "?" : d.is_string() ? d.get<std::string>() : d.dump());
  return fmt::format("[{}]", fmt::join(parts, ", "));
}

std::string size_text(std::uint64_t bytes) {
  if (bytes < 1'000'000) return fmt::format("{:.1f} kB, {} bytes", static_cast<double>(bytes) / 1e3, bytes);
  return fmt::format("{:.1f} MB, {} bytes", static_cast<double>(bytes) / 1e6, bytes);
}

}  // namespace

nlohmann::json onnx_summary_json(const onnx::ModelProto& model) {
  const auto& g = model.graph();
  nlohmann::json j;
  j["ir_version"] = model.ir_version();
  j["producer"] = {{"name", model.producer_name()}, {"version", model.producer_version()}};
  j["opsets"] = nlohmann::json::object();
  for (const auto& op : model.opset_import()) j["opsets"][op.domain().empty() ? "ai.onnx" : op.domain()] = op.version();
  j["graph_name"] = g.name();

  std::set<std::string> initializer_names;
  std::uint64_t bytes = 0;
  std::uint64_t external = 0;
  for (const auto& t : g.initializer()) {
    initializer_names.insert(t.name());
    if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL) {
      ++external;
    } else {
      bytes += stored_bytes(t);
    }
  }
  j["initializers"] = {{"count", g.initializer_size()}, {"bytes", bytes}, {"external_count", external}};

  j["inputs"] = nlohmann::json::array();
  for (const auto& in : g.input()) {
    if (!initializer_names.contains(in.name())) j["inputs"].push_back(value_info_json(in));
  }
  j["outputs"] = nlohmann::json::array();
  for (const auto& out : g.output()) j["outputs"].push_back(value_info_json(out));

  std::map<std::string, std::int64_t> ops;
  for (const auto& n : g.node()) {
    ++ops[n.domain().empty() || n.domain() == "ai.onnx" ? n.op_type() : n.domain() + "." + n.op_type()];
  }
  j["node_count"] = g.node_size();
  j["op_counts"] = ops;

  j["metadata"] = nlohmann::json::object();
  for (const auto& p : model.metadata_props()) j["metadata"][p.key()] = p.value();
  return j;
}

nlohmann::json onnx_summary_json(const fs::path& path) {
  auto model = read_onnx_model(path);
  auto j = onnx_summary_json(model);
  j["file"] = path.string();
  j["file_bytes"] = fs::file_size(path);
  return j;
}

std::string onnx_summary_text(const nlohmann::json& s) {
  std::string out;
  if (s.contains("file"))
    out += fmt::format("ONNX model {} ({})\n", s["file"].get<std::string>(), size_text(s["file_bytes"]));
  std::vector<std::string> opsets;
  for (const auto& [domain, version] : s["opsets"].items())
    opsets.push_back(fmt::format("{} {}", domain, version.dump()));
  const auto& producer = s["producer"];
  out += fmt::format("  IR version {}, opset {}, producer {} {}\n", s["ir_version"].dump(), fmt::join(opsets, ", "),
                     producer["name"].get<std::string>(), producer["version"].get<std::string>());
  for (const auto& in : s["inputs"]) {
    out += fmt::format("  Input  {}: {} {}\n", in["name"].get<std::string>(), in["dtype"].get<std::string>(),
                       dims_text(in["shape"]));
  }
  for (const auto& o : s["outputs"]) {
    out += fmt::format("  Output {}: {} {}\n", o["name"].get<std::string>(), o["dtype"].get<std::string>(),
                       dims_text(o["shape"]));
  }
  // Most frequent operators first; ties by name so the text is stable.
  std::vector<std::pair<std::string, std::int64_t>> ops;
  for (const auto& [op, n] : s["op_counts"].items()) ops.emplace_back(op, n.get<std::int64_t>());
  std::stable_sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::string> op_parts;
  for (const auto& [op, n] : ops) op_parts.push_back(fmt::format("{} {}", op, n));
  out += fmt::format("  Nodes: {} ({})\n", s["node_count"].dump(), fmt::join(op_parts, ", "));
  const auto& init = s["initializers"];
  out += fmt::format("  Initializers: {} tensors, {}", init["count"].dump(), size_text(init["bytes"]));
  if (init["external_count"].get<std::uint64_t>() > 0) {
    out += fmt::format(" (+{} stored as external data)", init["external_count"].dump());
  }
  out += "\n";
  if (s["metadata"].empty()) {
    out += "  Metadata: none\n";
  } else {
    out += "  Metadata:\n";
    for (const auto& [key, value] : s["metadata"].items())
      out += fmt::format("    {} = {}\n", key, value.get<std::string>());
  }
  return out;
}

std::string onnx_summary_text(const fs::path& path) { return onnx_summary_text(onnx_summary_json(path)); }

}  // namespace pt2onnx::inspect
