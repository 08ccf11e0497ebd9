// Node attributes, copied out of the protobuf at load so that passes can make
// and edit nodes without touching ONNX classes. Getters throw Error(BadInput)
// naming the attribute; callers add the node as context.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pt2onnx/tensor.h"

namespace pt2onnx::runtime {

enum class AttributeType { Int, Float, String, Ints, Floats, Tensor, Unsupported };

struct Attribute {
  AttributeType type = AttributeType::Unsupported;
  std::int64_t i = 0;
  float f = 0.0f;
  std::string s;
  std::vector<std::int64_t> ints;
  std::vector<float> floats;
  std::shared_ptr<const Tensor> tensor;
};

std::string_view attribute_type_name(AttributeType type);

class AttributeMap {
 public:
  void set(const std::string& name, Attribute value) { map_[name] = std::move(value); }
  void set_int(const std::string& name, std::int64_t v);
  void set_float(const std::string& name, float v);
  void set_ints(const std::string& name, std::vector<std::int64_t> v);
  void erase(const std::string& name) { map_.erase(name); }

  [[nodiscard]] bool has(const std::string& name) const { return map_.count(name) != 0; }
  [[nodiscard]] std::int64_t get_int(const std::string& name, std::int64_t fallback) const;
  [[nodiscard]] std::optional<std::int64_t> find_int(const std::string& name) const;
  [[nodiscard]] float get_float(const std::string& name, float fallback) const;
  [[nodiscard]] std::optional<float> find_float(const std::string& name) const;
  [[nodiscard]] std::string get_string(const std::string& name, const std::string& fallback) const;
  [[nodiscard]] std::optional<std::vector<std::int64_t>> find_ints(const std::string& name) const;
  [[nodiscard]] std::vector<std::int64_t> get_ints(const std::string& name, std::vector<std::int64_t> fallback) const;
  [[nodiscard]] std::optional<std::vector<float>> find_floats(const std::string& name) const;
  [[nodiscard]] std::shared_ptr<const Tensor> find_tensor(const std::string& name) const;
  [[nodiscard]] const std::map<std::string, Attribute>& all() const { return map_; }

 private:
  const Attribute* typed(const std::string& name, AttributeType type) const;
  std::map<std::string, Attribute> map_;
};

}  // namespace pt2onnx::runtime
