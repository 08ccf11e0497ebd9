// The weights of a model as torch's state_dict() names them, in file order.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pt2onnx/tensor.h"

namespace pt2onnx::checkpoint {

struct StateDict {
  std::vector<std::pair<std::string, Tensor>> entries;

  [[nodiscard]] const Tensor* find(std::string_view name) const {
    for (const auto& [key, tensor] : entries) {
      if (key == name) return &tensor;
    }
    return nullptr;
  }
  [[nodiscard]] std::size_t size() const { return entries.size(); }
};

}  // namespace pt2onnx::checkpoint
