// Dimensions during shape inference. At load time the batch (and any other
// dim_param) is a symbol, so a pass can tell that two tensors have the same
// shape without knowing the batch; when a plan is compiled every dim is known.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pt2onnx::runtime {

class Dim {
 public:
  Dim() = default;  // unknown
  static Dim known(std::int64_t value) { return Dim(value, -1); }
  static Dim symbol(int id) { return Dim(-1, id); }

  [[nodiscard]] bool is_known() const { return value_ >= 0; }
  [[nodiscard]] bool is_symbol() const { return symbol_ >= 0; }
  [[nodiscard]] std::int64_t value() const { return value_; }
  [[nodiscard]] int symbol_id() const { return symbol_; }
  // True only when both are provably the same size; unknown is never the same.
  [[nodiscard]] bool same_as(const Dim& other) const {
    return (is_known() && value_ == other.value_) || (is_symbol() && symbol_ == other.symbol_);
  }
  [[nodiscard]] bool is(std::int64_t v) const { return is_known() && value_ == v; }

 private:
  Dim(std::int64_t value, int symbol) : value_(value), symbol_(symbol) {}
  std::int64_t value_ = -1;
  int symbol_ = -1;
};

using Dims = std::vector<Dim>;
// nullopt: not even the rank is known.
using MaybeDims = std::optional<Dims>;

std::string dims_to_string(const Dims& dims);  // "[batch?, 3, 224, 224]"
bool all_known(const Dims& dims);
bool same_dims(const Dims& a, const Dims& b);
// Known values; the caller has checked all_known.
std::vector<std::int64_t> known_values(const Dims& dims);
Dims dims_from_values(const std::vector<std::int64_t>& values);

}  // namespace pt2onnx::runtime
