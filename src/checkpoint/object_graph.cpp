#include "checkpoint/object_graph.h"

#include <algorithm>
#include <functional>
#include <unordered_map>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx::checkpoint {
namespace {

// The direct children of a shared object, for the tree checks below.
template <typename Fn>
void for_each_child(const Value& v, Fn&& fn) {
  switch (v.kind()) {
    case ValueKind::List:
    case ValueKind::Tuple:
    case ValueKind::Set:
      for (const auto& item : v.as_sequence().items) fn(item);
      return;
    case ValueKind::Dict:
      for (const auto& [key, value] : v.as_dict().items) {
        fn(key);
        fn(value);
      }
      return;
    case ValueKind::Placeholder: {
      const auto& p = v.as_placeholder();
      for (const auto& a : p.args) fn(a);
      if (p.state) fn(*p.state);
      for (const auto& item : p.list_items) fn(item);
      for (const auto& [key, value] : p.dict_items) {
        fn(key);
        fn(value);
      }
      return;
    }
    default:
      return;
  }
}

// Moves the children out of a container, so that destroying it cannot recurse.
void empty_into(const Value& v, std::vector<Value>& graveyard) {
  switch (v.kind()) {
    case ValueKind::List:
    case ValueKind::Tuple:
    case ValueKind::Set: {
      auto& items = v.as_sequence().items;
      for (auto& item : items) graveyard.push_back(std::move(item));
      items.clear();
      return;
    }
    case ValueKind::Dict: {
      auto& d = v.as_dict();
      for (auto& [key, value] : d.items) {
        graveyard.push_back(std::move(key));
        graveyard.push_back(std::move(value));
      }
      d.clear();
      return;
    }
    case ValueKind::Placeholder: {
      auto& p = v.as_placeholder();
      for (auto& a : p.args) graveyard.push_back(std::move(a));
      if (p.state) graveyard.push_back(std::move(*p.state));
      for (auto& item : p.list_items) graveyard.push_back(std::move(item));
      for (auto& [key, value] : p.dict_items) {
        graveyard.push_back(std::move(key));
        graveyard.push_back(std::move(value));
      }
      p.args.clear();
      p.state.reset();
      p.list_items.clear();
      p.dict_items.clear();
      return;
    }
    default:
      return;
  }
}

}  // namespace

std::unordered_set<const void*> check_object_graph(const Value& root, std::size_t max_depth) {
  std::unordered_map<const void*, std::size_t> height;  // finished objects
  std::unordered_set<const void*> on_path;
  std::function<std::size_t(const Value&, std::size_t)> visit = [&](const Value& v, std::size_t depth) -> std::size_t {
    const void* id = v.identity();
    if (id == nullptr) return 0;
    if (auto it = height.find(id); it != height.end()) {
      // Shared objects are walked once; a deeper second path must still fit.
      if (depth + it->second > max_depth) {
        throw_error(ErrorKind::BadInput, fmt::format("objects are nested more than {} levels deep", max_depth));
      }
      return it->second;
    }
    if (on_path.count(id) != 0) {
      throw_error(ErrorKind::BadInput, "the pickled object contains itself (a reference cycle)");
    }
    if (depth > max_depth) {
      throw_error(ErrorKind::BadInput, fmt::format("objects are nested more than {} levels deep", max_depth));
    }
    on_path.insert(id);
    std::size_t h = 0;
    for_each_child(v, [&](const Value& child) { h = std::max(h, visit(child, depth + 1) + 1); });
    on_path.erase(id);
    height.emplace(id, h);
    return h;
  };
  visit(root, 0);
  std::unordered_set<const void*> reachable;
  for (const auto& [id, h] : height) reachable.insert(id);
  return reachable;
}

void release_objects(std::vector<Value>& objects, const std::unordered_set<const void*>* keep) {
  std::vector<Value> graveyard;
  for (const auto& v : objects) {
    if (keep == nullptr || keep->count(v.identity()) == 0) empty_into(v, graveyard);
  }
  objects.clear();
}

}  // namespace pt2onnx::checkpoint
