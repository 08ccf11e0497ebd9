#include "checkpoint/tree_listing.h"

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx::checkpoint {
namespace {

class Lister {
 public:
  explicit Lister(std::size_t max_leaves) : max_leaves_(max_leaves) {}

  void visit(const Value& v, const std::string& name) {
    if (++visited_ > max_leaves_) {
      throw_error(
          ErrorKind::BadInput,
          fmt::format("the checkpoint has more than {} entries (sub-objects shared over and over?)", max_leaves_));
    }
    if (v.is(ValueKind::Dict) && !v.as_dict().items.empty()) {
      for (const auto& [key, value] : v.as_dict().items) visit(value, join(name, key_segment(key)));
      return;
    }
    if ((v.is(ValueKind::List) || v.is(ValueKind::Tuple)) && !v.as_sequence().items.empty()) {
      const auto& items = v.as_sequence().items;
      for (std::size_t i = 0; i < items.size(); ++i) visit(items[i], join(name, fmt::format("{}", i)));
      return;
    }
    leaves.push_back({name, v});
  }

  std::vector<TreeLeaf> leaves;

 private:
  static std::string join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }

  std::size_t max_leaves_;
  std::size_t visited_ = 0;
};

}  // namespace

std::string key_segment(const Value& key) {
  if (key.is(ValueKind::Str)) return key.as_str();
  if (key.is(ValueKind::Int) || key.is(ValueKind::BigInt) || key.is(ValueKind::Bool)) return short_repr(key);
  return short_repr(key, 40);
}

std::vector<TreeLeaf> list_leaves(const Value& root, const std::string& root_name, std::size_t max_leaves) {
  Lister lister(max_leaves);
  lister.visit(root, root_name);
  return std::move(lister.leaves);
}

}  // namespace pt2onnx::checkpoint
