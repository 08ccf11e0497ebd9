// Lookups into exported ModelProtos for assertions.
#pragma once

#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "onnx/onnx_pb.h"

namespace pt2onnx::exporter::testing {

inline const onnx::NodeProto& node_named(const onnx::ModelProto& m, const std::string& name) {
  for (const auto& n : m.graph().node()) {
    if (n.name() == name) return n;
  }
  throw std::runtime_error("no node named " + name);
}

inline const onnx::AttributeProto& attr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute()) {
    if (a.name() == name) return a;
  }
  throw std::runtime_error("node " + n.name() + " has no attribute " + name);
}

inline std::vector<std::int64_t> ints(const onnx::NodeProto& n, const std::string& name) {
  const auto& a = attr(n, name);
  return {a.ints().begin(), a.ints().end()};
}

inline std::vector<std::string> inputs(const onnx::NodeProto& n) { return {n.input().begin(), n.input().end()}; }
inline std::vector<std::string> outputs(const onnx::NodeProto& n) { return {n.output().begin(), n.output().end()}; }

inline const onnx::TensorProto& initializer(const onnx::ModelProto& m, const std::string& name) {
  for (const auto& t : m.graph().initializer()) {
    if (t.name() == name) return t;
  }
  throw std::runtime_error("no initializer named " + name);
}

inline std::vector<float> floats(const onnx::TensorProto& t) {
  std::vector<float> v(t.raw_data().size() / sizeof(float));
  std::memcpy(v.data(), t.raw_data().data(), v.size() * sizeof(float));
  return v;
}

inline std::map<std::string, int> op_counts(const onnx::ModelProto& m) {
  std::map<std::string, int> counts;
  for (const auto& n : m.graph().node()) ++counts[n.op_type()];
  return counts;
}

inline std::map<std::string, std::string> metadata(const onnx::ModelProto& m) {
  std::map<std::string, std::string> out;
  for (const auto& p : m.metadata_props()) out[p.key()] = p.value();
  return out;
}

}  // namespace pt2onnx::exporter::testing
