// Finding the weights inside a checkpoint: a plain state dict, or one nested
// in a training checkpoint under a conventional key, or wherever --key says.
#include <algorithm>
#include <array>
#include <charconv>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "checkpoint/checkpoint.h"
#include "pt2onnx/error.h"

namespace pt2onnx::checkpoint {
namespace {

// In the order training scripts most often use them; `ema` last, so that a
// checkpoint with both the raw and the averaged weights yields the raw ones.
constexpr std::array<std::string_view, 5> kStateDictKeys{"model_state_dict", "state_dict", "model", "net", "ema"};
// DataParallel/DistributedDataParallel and torch.compile wrap the model and prefix every name.
constexpr std::array<std::string_view, 2> kWrapperPrefixes{"module.", "_orig_mod."};
constexpr int kMaxSearchDepth = 3;
constexpr std::size_t kKeysInMessages = 12;

// A tensor, or what would have been one had its rebuild been possible (its
// storage came from a callable that was not run, or is of an unread type).
bool is_tensor_like(const Value& v) {
  if (v.is(ValueKind::Tensor)) return true;
  return v.is(ValueKind::Placeholder) && v.as_placeholder().class_name.starts_with("torch._utils._rebuild");
}

// String keys to tensors. Placeholders are let in (loading then names them)
// as long as something in the dict is tensor-like.
bool looks_like_state_dict(const Value& v) {
  if (!v.is(ValueKind::Dict) || v.as_dict().items.empty()) return false;
  bool any_tensor = false;
  for (const auto& [key, value] : v.as_dict().items) {
    if (!key.is(ValueKind::Str)) return false;
    if (is_tensor_like(value)) {
      any_tensor = true;
    } else if (!value.is(ValueKind::Placeholder) || !value.as_placeholder().called) {
      return false;
    }
  }
  return any_tensor;
}

std::string key_list(const Value& v) {
  if (!v.is(ValueKind::Dict)) return fmt::format("it is {}", a_value_kind(v.kind()));
  std::vector<std::string> keys;
  for (const auto& [key, value] : v.as_dict().items) {
    if (keys.size() == kKeysInMessages) {
      keys.emplace_back("...");
      break;
    }
    keys.push_back(key.is(ValueKind::Str) ? key.as_str() : short_repr(key, 30));
  }
  return keys.empty() ? "it is empty" : fmt::format("its keys are {}", fmt::join(keys, ", "));
}

std::string join_path(const std::string& path, std::string_view segment) {
  return path.empty() ? std::string(segment) : path + "." + std::string(segment);
}

// Follows a dotted path; keys may themselves contain dots, so the longest
// matching key is tried first.
Value resolve(const Value& node, std::string_view rest, const std::string& path) {
  if (rest.empty()) return node;
  if (node.is(ValueKind::Dict)) {
    std::vector<std::size_t> ends{rest.size()};
    for (std::size_t i = rest.size(); i-- > 0;) {
      if (rest[i] == '.') ends.push_back(i);
    }
    for (const auto end : ends) {
      const auto segment = rest.substr(0, end);
      const Value* child = node.as_dict().find(segment);
      std::int64_t index = 0;
      if (child == nullptr) {
        auto [p, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), index);
        if (ec == std::errc() && p == segment.data() + segment.size())
          child = node.as_dict().find(Value::from_int(index));
      }
      if (child != nullptr) {
        const auto next = end == rest.size() ? std::string_view() : rest.substr(end + 1);
        return resolve(*child, next, join_path(path, segment));
      }
    }
  } else if (node.is(ValueKind::List) || node.is(ValueKind::Tuple)) {
    const auto dot = rest.find('.');
    const auto segment = rest.substr(0, dot);
    std::size_t index = 0;
    auto [p, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), index);
    const auto& items = node.as_sequence().items;
    if (ec == std::errc() && p == segment.data() + segment.size() && index < items.size()) {
      return resolve(items[index], dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1),
                     join_path(path, segment));
    }
  }
  throw_error(ErrorKind::BadInput,
              fmt::format("no entry '{}' under {}; {}", rest,
                          path.empty() ? std::string("the root") : fmt::format("'{}'", path), key_list(node)));
}

std::optional<StateDictLocation> search(const Value& node, const std::string& path, int depth, std::string& hint) {
  if (!node.is(ValueKind::Dict) || depth > kMaxSearchDepth) return std::nullopt;
  for (auto name : kStateDictKeys) {
    const Value* child = node.as_dict().find(name);
    if (child == nullptr) continue;
    const auto child_path = join_path(path, name);
    if (looks_like_state_dict(*child)) return StateDictLocation{*child, child_path};
    if (child->is(ValueKind::Placeholder) && hint.empty()) {
      hint = fmt::format("; '{}' holds a pickled {} object rather than its state_dict()", child_path,
                         child->as_placeholder().class_name);
    }
    if (auto found = search(*child, child_path, depth + 1, hint)) return found;
  }
  return std::nullopt;
}

[[noreturn]] void not_a_tensor(const std::string& name, const Value& v) {
  if (v.is(ValueKind::Placeholder)) {
    const auto& p = v.as_placeholder();
    throw_error(ErrorKind::BadInput,
                fmt::format("state dict entry '{}' is not a tensor but {} ({})", name, short_repr(v, 120),
                            p.reason.empty() ? "an object pt2onnx does not construct" : p.reason));
  }
  throw_error(ErrorKind::BadInput, fmt::format("state dict entry '{}' is {} ({}), not a tensor", name,
                                               a_value_kind(v.kind()), short_repr(v)));
}

void strip_prefixes(std::vector<std::pair<std::string, Tensor>>& entries, const std::vector<std::string>& prefixes) {
  for (auto& e : entries) {
    for (const auto& prefix : prefixes) e.first.erase(0, prefix.size());
  }
}

std::optional<std::vector<std::string>> read_labels(const Value& root) {
  if (!root.is(ValueKind::Dict)) return std::nullopt;
  const Value* labels = root.as_dict().find("labels");
  if (labels == nullptr || !(labels->is(ValueKind::List) || labels->is(ValueKind::Tuple))) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& item : labels->as_sequence().items) {
    if (!item.is(ValueKind::Str)) return std::nullopt;
    out.push_back(item.as_str());
  }
  return out;
}

}  // namespace

StateDictLocation find_state_dict(const Value& root, const std::optional<std::string>& key) {
  if (key) {
    Value found = with_error_context(fmt::format("key '{}'", *key), [&] { return resolve(root, *key, ""); });
    if (!found.is(ValueKind::Dict)) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("key '{}' holds {}, not a state dict", *key, a_value_kind(found.kind())));
    }
    return {found, *key};
  }
  if (looks_like_state_dict(root)) return {root, ""};
  std::string hint;
  if (auto found = search(root, "", 0, hint)) return *found;
  throw_error(ErrorKind::BadInput,
              fmt::format("no state dict found: the root is not one and none of {} holds one ({}){}; "
                          "name its key with --key",
                          fmt::join(kStateDictKeys, ", "), key_list(root), hint));
}

void check_state_dict(const StateDictLocation& location) {
  for (const auto& [k, v] : location.dict.as_dict().items) {
    if (!k.is(ValueKind::Str)) throw_error(ErrorKind::BadInput, fmt::format("key {} is not a string", short_repr(k)));
    if (!v.is(ValueKind::Tensor)) not_a_tensor(k.as_str(), v);
  }
}

std::vector<std::string> common_wrapper_prefixes(std::vector<std::string> names) {
  std::vector<std::string> stripped;
  for (bool again = !names.empty(); again;) {
    again = false;
    for (auto prefix : kWrapperPrefixes) {
      const bool all = std::all_of(names.begin(), names.end(), [&](const std::string& n) {
        return n.size() > prefix.size() && n.starts_with(prefix);
      });
      if (!all) continue;
      for (auto& n : names) n.erase(0, prefix.size());
      stripped.emplace_back(prefix);
      again = true;
    }
  }
  return stripped;
}

LoadedStateDict extract_state_dict(Checkpoint&& checkpoint, const std::optional<std::string>& key) {
  auto location = find_state_dict(checkpoint.root, key);
  LoadedStateDict out;
  out.format = std::string(format_name(checkpoint.format));
  out.found_under = location.path;
  out.labels = read_labels(checkpoint.root);
  const auto context = location.path.empty() ? std::string("state dict at the root")
                                             : fmt::format("state dict under '{}'", location.path);
  with_error_context(context, [&] {
    check_state_dict(location);
    // Tied weights are one tensor under two names: move it out once, copy it after.
    std::unordered_map<const TensorData*, std::size_t> moved;
    auto& entries = out.state_dict.entries;
    for (const auto& [k, v] : location.dict.as_dict().items) {
      const auto& name = k.as_str();
      auto& data = v.as_tensor();
      if (auto it = moved.find(&data); it != moved.end()) {
        entries.emplace_back(name, entries[it->second].second);
        continue;
      }
      if (!data.tensor) throw_error(ErrorKind::Internal, fmt::format("tensor '{}' was never materialised", name));
      moved.emplace(&data, entries.size());
      entries.emplace_back(name, std::move(*data.tensor));
      data.tensor.reset();
    }
  });
  std::vector<std::string> names;
  for (const auto& e : out.state_dict.entries) names.push_back(e.first);
  out.stripped_prefixes = common_wrapper_prefixes(std::move(names));
  strip_prefixes(out.state_dict.entries, out.stripped_prefixes);
  return out;
}

}  // namespace pt2onnx::checkpoint
