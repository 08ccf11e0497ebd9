#include "runtime/attributes.h"

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx::runtime {

std::string_view attribute_type_name(AttributeType type) {
  switch (type) {
    case AttributeType::Int:
      return "INT";
    case AttributeType::Float:
      return "FLOAT";
    case AttributeType::String:
      return "STRING";
    case AttributeType::Ints:
      return "INTS";
    case AttributeType::Floats:
      return "FLOATS";
    case AttributeType::Tensor:
      return "TENSOR";
    case AttributeType::Unsupported:
      return "an unsupported type";
  }
  return "?";
}

void AttributeMap::set_int(const std::string& name, std::int64_t v) {
  Attribute a;
  a.type = AttributeType::Int;
  a.i = v;
  map_[name] = std::move(a);
}

void AttributeMap::set_float(const std::string& name, float v) {
  Attribute a;
  a.type = AttributeType::Float;
  a.f = v;
  map_[name] = std::move(a);
}

void AttributeMap::set_ints(const std::string& name, std::vector<std::int64_t> v) {
  Attribute a;
  a.type = AttributeType::Ints;
  a.ints = std::move(v);
  map_[name] = std::move(a);
}

const Attribute* AttributeMap::typed(const std::string& name, AttributeType type) const {
  auto it = map_.find(name);
  if (it == map_.end()) return nullptr;
  if (it->second.type != type) {
    throw_error(ErrorKind::BadInput, fmt::format("attribute '{}' is {}, expected {}", name,
                                                 attribute_type_name(it->second.type), attribute_type_name(type)));
  }
  return &it->second;
}

std::optional<std::int64_t> AttributeMap::find_int(const std::string& name) const {
  const auto* a = typed(name, AttributeType::Int);
  return a ? std::optional(a->i) : std::nullopt;
}

std::int64_t AttributeMap::get_int(const std::string& name, std::int64_t fallback) const {
  return find_int(name).value_or(fallback);
}

std::optional<float> AttributeMap::find_float(const std::string& name) const {
  const auto* a = typed(name, AttributeType::Float);
  return a ? std::optional(a->f) : std::nullopt;
}

float AttributeMap::get_float(const std::string& name, float fallback) const {
  return find_float(name).value_or(fallback);
}

std::string AttributeMap::get_string(const std::string& name, const std::string& fallback) const {
  const auto* a = typed(name, AttributeType::String);
  return a ? a->s : fallback;
}

std::optional<std::vector<std::int64_t>> AttributeMap::find_ints(const std::string& name) const {
  const auto* a = typed(name, AttributeType::Ints);
  return a ? std::optional(a->ints) : std::nullopt;
}

std::vector<std::int64_t> AttributeMap::get_ints(const std::string& name, std::vector<std::int64_t> fallback) const {
  auto v = find_ints(name);
  return v ? *v : std::move(fallback);
}

std::optional<std::vector<float>> AttributeMap::find_floats(const std::string& name) const {
  const auto* a = typed(name, AttributeType::Floats);
  return a ? std::optional(a->floats) : std::nullopt;
}

std::shared_ptr<const Tensor> AttributeMap::find_tensor(const std::string& name) const {
  const auto* a = typed(name, AttributeType::Tensor);
  return a ? a->tensor : nullptr;
}

}  // namespace pt2onnx::runtime
