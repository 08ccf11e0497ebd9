#include "runtime/dim.h"

#include <fmt/format.h>

namespace pt2onnx::runtime {

std::string dims_to_string(const Dims& dims) {
  std::string out = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i != 0) out += ", ";
    if (dims[i].is_known()) {
      out += std::to_string(dims[i].value());
    } else if (dims[i].is_symbol()) {
      out += fmt::format("s{}", dims[i].symbol_id());
    } else {
      out += "?";
    }
  }
  return out + "]";
}

bool all_known(const Dims& dims) {
  for (const auto& d : dims) {
    if (!d.is_known()) return false;
  }
  return true;
}

bool same_dims(const Dims& a, const Dims& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].same_as(b[i])) return false;
  }
  return true;
}

std::vector<std::int64_t> known_values(const Dims& dims) {
  std::vector<std::int64_t> out;
  out.reserve(dims.size());
  for (const auto& d : dims) out.push_back(d.value());
  return out;
}

Dims dims_from_values(const std::vector<std::int64_t>& values) {
  Dims out;
  out.reserve(values.size());
  for (auto v : values) out.push_back(Dim::known(v));
  return out;
}

}  // namespace pt2onnx::runtime
