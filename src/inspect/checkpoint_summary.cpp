// The checkpoint half of `pt2onnx inspect` (inspect.h), and the dispatch.
#include <algorithm>
#include <cstdio>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "checkpoint/checkpoint.h"
#include "checkpoint/tree_listing.h"
#include "common/onnx_file.h"
#include "inspect/inspect.h"
#include "inspect/onnx_summary.h"
#include "pt2onnx/error.h"

namespace pt2onnx::inspect {
namespace {

using checkpoint::TreeLeaf;
using checkpoint::Value;
using checkpoint::ValueKind;
using Json = nlohmann::ordered_json;

constexpr std::size_t kMaxNameColumn = 64;
constexpr std::size_t kShortValueChars = 60;

struct Totals {
  std::size_t tensors = 0;
  std::int64_t elements = 0;
  std::uint64_t bytes = 0;

  void add(const Tensor& t) {
    ++tensors;
    elements += t.numel();
    bytes += t.nbytes();
  }
};

struct StateDictReport {
  std::optional<std::string> found_under;  // set when usable
  std::string problem;                     // why not, otherwise
  std::vector<std::string> stripped_prefixes;
  Totals totals;
};

// "12,345,678"
std::string grouped(std::uint64_t n) {
  const auto digits = fmt::format("{}", n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

const Tensor& tensor_of(const TreeLeaf& leaf) {
  const auto& data = leaf.value.as_tensor();
  if (!data.tensor) throw_error(ErrorKind::Internal, fmt::format("tensor '{}' was not materialised", leaf.name));
  return *data.tensor;
}

std::string leaf_type(const Value& v) {
  if (v.is(ValueKind::Placeholder)) return "object";
  return std::string(checkpoint::value_kind_name(v.kind()));
}

StateDictReport report_state_dict(const Value& root, const std::optional<std::string>& key,
                                  checkpoint::StateDictLocation& location) {
  StateDictReport report;
  try {
    location = checkpoint::find_state_dict(root, key);
    checkpoint::check_state_dict(location);
    report.found_under = location.path;
    std::vector<std::string> names;
    for (const auto& [k, v] : location.dict.as_dict().items) {
      names.push_back(k.as_str());
      if (v.as_tensor().tensor) report.totals.add(*v.as_tensor().tensor);
    }
    report.stripped_prefixes = checkpoint::common_wrapper_prefixes(std::move(names));
  } catch (const Error& e) {
    if (key) throw;  // asked for explicitly: not finding it is the error
    report.problem = e.what();
  }
  return report;
}

void print_json(const InspectOptions& options, const checkpoint::Checkpoint& ckpt, const std::vector<TreeLeaf>& leaves,
                const StateDictReport& sd) {
  Json out;
  out["file"] = options.file.string();
  out["format"] = std::string(checkpoint::format_name(ckpt.format));
  Json metadata = Json::object();
  for (const auto& [k, v] : ckpt.metadata) metadata[k] = v;
  out["metadata"] = metadata;
  Json state = Json::object();
  if (sd.found_under) {
    state["found_under"] = *sd.found_under;
    state["stripped_prefixes"] = sd.stripped_prefixes;
    state["tensors"] = sd.totals.tensors;
    state["parameters"] = sd.totals.elements;
    state["bytes"] = sd.totals.bytes;
  } else {
    state["error"] = sd.problem;
  }
  out["state_dict"] = state;
  Json tensors = Json::array();
  Json entries = Json::array();
  Totals totals;
  for (const auto& leaf : leaves) {
    if (leaf.value.is(ValueKind::Tensor)) {
      const auto& t = tensor_of(leaf);
      totals.add(t);
      tensors.push_back(Json{
          {"name", leaf.name}, {"dtype", std::string(dtype_name(t.dtype()))}, {"shape", t.shape()}, {"sum", t.sum()}});
    } else {
      Json e{{"name", leaf.name},
             {"type", leaf_type(leaf.value)},
             {"value", checkpoint::short_repr(leaf.value, kShortValueChars)}};
      if (leaf.value.is(ValueKind::Placeholder)) e["class"] = leaf.value.as_placeholder().class_name;
      entries.push_back(std::move(e));
    }
  }
  out["tensors"] = std::move(tensors);
  out["entries"] = std::move(entries);
  out["totals"] = Json{{"tensors", totals.tensors}, {"parameters", totals.elements}, {"bytes", totals.bytes}};
  // Names and strings come from the file; invalid UTF-8 is replaced rather than fatal.
  fmt::print("{}\n", out.dump(-1, ' ', false, Json::error_handler_t::replace));
}

void print_listing(const InspectOptions& options, const checkpoint::Checkpoint& ckpt,
                   const std::vector<TreeLeaf>& leaves, const StateDictReport& sd) {
  std::vector<std::string> facts;
  for (const auto& [k, v] : ckpt.metadata)
    facts.push_back(fmt::format("{} {}", k, checkpoint::short_repr(Value::str(v), 40)));
  fmt::print("{}: {} checkpoint{}\n", options.file.string(), checkpoint::format_name(ckpt.format),
             facts.empty() ? "" : fmt::format(" ({})", fmt::join(facts, ", ")));
  if (sd.found_under) {
    fmt::print("state dict: {}, {} tensors, {} parameters, {} bytes{}\n",
               sd.found_under->empty() ? std::string("the root object") : fmt::format("under '{}'", *sd.found_under),
               sd.totals.tensors, grouped(static_cast<std::uint64_t>(sd.totals.elements)), grouped(sd.totals.bytes),
               sd.stripped_prefixes.empty()
                   ? std::string()
                   : fmt::format(" (names lose the prefix {})", fmt::join(sd.stripped_prefixes, "")));
  } else {
    fmt::print("state dict: not usable: {}\n", sd.problem);
  }

  std::size_t width = 4;
  for (const auto& leaf : leaves) width = std::max(width, std::min(leaf.name.size(), kMaxNameColumn));
  Totals totals;
  std::size_t others = 0;
  fmt::print("\ntensors:\n");
  for (const auto& leaf : leaves) {
    if (!leaf.value.is(ValueKind::Tensor)) {
      ++others;
      continue;
    }
    const auto& t = tensor_of(leaf);
    totals.add(t);
    fmt::print("  {:<{}}  {:<8}  {}\n", leaf.name, width, dtype_name(t.dtype()), shape_to_string(t.shape()));
  }
  if (others != 0) {
    fmt::print("\nother entries:\n");
    for (const auto& leaf : leaves) {
      if (leaf.value.is(ValueKind::Tensor)) continue;
      fmt::print("  {:<{}}  {:<8}  {}\n", leaf.name.empty() ? "(root)" : leaf.name, width, leaf_type(leaf.value),
                 checkpoint::short_repr(leaf.value, kShortValueChars));
    }
  }
  fmt::print("\ntotal: {} tensors, {} parameters, {} bytes\n", totals.tensors,
             grouped(static_cast<std::uint64_t>(totals.elements)), grouped(totals.bytes));
}

}  // namespace

void print_checkpoint_summary(const InspectOptions& options) {
  const auto ckpt = checkpoint::read_checkpoint(options.file);
  with_error_context(fmt::format("file {}", options.file.string()), [&] {
    checkpoint::StateDictLocation location;
    const auto sd = report_state_dict(ckpt.root, options.key, location);
    // With --key only the chosen state dict is listed, still named from the root.
    const auto leaves =
        options.key ? checkpoint::list_leaves(location.dict, location.path) : checkpoint::list_leaves(ckpt.root);
    if (options.json) {
      print_json(options, ckpt, leaves, sd);
    } else {
      print_listing(options, ckpt, leaves, sd);
    }
  });
}

void inspect_file(const InspectOptions& options) {
  if (checkpoint::detect_checkpoint_format(options.file)) {
    print_checkpoint_summary(options);
  } else if (is_onnx_file(options.file)) {
    fmt::print("{}", options.json ? onnx_summary_json(options.file).dump(2) + "\n" : onnx_summary_text(options.file));
  } else {
    throw Error(ErrorKind::BadInput,
                "not a checkpoint (torch.save zip, legacy torch.save or safetensors) nor an ONNX model")
        .with_context(fmt::format("file {}", options.file.string()));
  }
}

}  // namespace pt2onnx::inspect
