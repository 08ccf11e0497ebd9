#include "runtime/graph.h"

#include <algorithm>
#include <queue>

#include <fmt/format.h>

namespace pt2onnx::runtime {
namespace {
constexpr std::size_t kUnranked = static_cast<std::size_t>(-1);
}  // namespace

std::string describe_node(const Node& node) {
  if (!node.name.empty()) return fmt::format("node '{}' ({})", node.name, op_type_name(node.op));
  return fmt::format("unnamed {} node", op_type_name(node.op));
}

ValueId Graph::add_value(Value value) {
  values_.push_back(std::move(value));
  readers_.emplace_back();
  return static_cast<ValueId>(values_.size() - 1);
}

void Graph::add_reader(ValueId v, NodeId id) {
  if (v != kNoValue) readers_.at(static_cast<std::size_t>(v)).push_back(id);
}

void Graph::drop_reader(ValueId v, NodeId id) {
  if (v == kNoValue) return;
  auto& readers = readers_.at(static_cast<std::size_t>(v));
  const auto it = std::find(readers.begin(), readers.end(), id);
  if (it != readers.end()) readers.erase(it);
}

const std::vector<NodeId>& Graph::order() const {
  if (order_has_dead_) {
    std::erase_if(order_, [this](NodeId id) { return !node(id).alive; });
    order_has_dead_ = false;
  }
  return order_;
}

void Graph::set_input(NodeId id, std::size_t index, ValueId v) {
  auto& inputs = node(id).inputs;
  if (index >= inputs.size()) inputs.resize(index + 1, kNoValue);
  drop_reader(inputs[index], id);
  inputs[index] = v;
  add_reader(v, id);
}

void Graph::set_inputs(NodeId id, std::vector<ValueId> inputs) {
  for (auto in : node(id).inputs) drop_reader(in, id);
  node(id).inputs = std::move(inputs);
  for (auto in : node(id).inputs) add_reader(in, id);
}

ValueId Graph::add_constant(const std::string& name_hint, Tensor tensor) {
  Value v;
  v.name = unique_value_name(name_hint);
  v.dtype = tensor.dtype();
  v.dims = dims_from_values(tensor.shape());
  v.constant = std::make_shared<const Tensor>(std::move(tensor));
  return add_value(std::move(v));
}

NodeId Graph::add_node(Node node) {
  const auto id = static_cast<NodeId>(nodes_.size());
  for (auto out : node.outputs) value(out).producer = id;
  for (auto in : node.inputs) add_reader(in, id);
  nodes_.push_back(std::move(node));
  order_.push_back(id);
  return id;
}

void Graph::remove_node(NodeId id) {
  auto& n = node(id);
  if (!n.alive) return;
  n.alive = false;
  for (auto out : n.outputs) {
    if (value(out).producer == id) value(out).producer = kNoNode;
  }
  for (auto in : n.inputs) drop_reader(in, id);
  order_has_dead_ = true;
}

std::vector<NodeId> Graph::consumers(ValueId v) const {
  if (v == kNoValue) return {};
  std::vector<NodeId> out = readers_.at(static_cast<std::size_t>(v));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool Graph::is_graph_output(ValueId v) const {
  return std::find(outputs_.begin(), outputs_.end(), v) != outputs_.end();
}

bool Graph::is_graph_input(ValueId v) const { return std::find(inputs_.begin(), inputs_.end(), v) != inputs_.end(); }

void Graph::replace_uses(ValueId from, ValueId to) {
  if (from == to) return;
  std::vector<NodeId> readers = std::move(readers_.at(static_cast<std::size_t>(from)));
  readers_.at(static_cast<std::size_t>(from)).clear();
  for (auto id : readers) {
    for (auto& in : node(id).inputs) {
      if (in == from) in = to;
    }
    add_reader(to, id);
  }
  for (auto& out : outputs_) {
    if (out == from) out = to;
  }
}

void Graph::sort_topologically(ErrorKind kind) {
  // Kahn's algorithm, always taking the earliest ready node of the old order,
  // so an already sorted graph keeps its order exactly.
  const std::vector<NodeId> live = order();
  std::vector<std::size_t> rank(nodes_.size(), kUnranked);
  for (std::size_t i = 0; i < live.size(); ++i) rank[static_cast<std::size_t>(live[i])] = i;
  std::vector<int> pending(live.size(), 0);
  std::vector<std::vector<std::size_t>> readers(live.size());
  for (std::size_t i = 0; i < live.size(); ++i) {
    for (auto in : node(live[i]).inputs) {
      if (in == kNoValue) continue;
      const auto p = value(in).producer;
      if (p == kNoNode || rank[static_cast<std::size_t>(p)] == kUnranked) continue;
      const auto pr = rank[static_cast<std::size_t>(p)];
      ++pending[i];
      readers[pr].push_back(i);
    }
  }
  std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
  for (std::size_t i = 0; i < live.size(); ++i) {
    if (pending[i] == 0) ready.push(i);
  }
  std::vector<NodeId> sorted;
  while (!ready.empty()) {
    const auto i = ready.top();
    ready.pop();
    sorted.push_back(live[i]);
    for (auto r : readers[i]) {
      if (--pending[r] == 0) ready.push(r);
    }
  }
  if (sorted.size() != live.size()) {
    for (std::size_t i = 0; i < live.size(); ++i) {
      if (pending[i] != 0) throw_error(kind, fmt::format("the graph has a cycle through {}", describe(live[i])));
    }
  }
  order_ = std::move(sorted);
}

void Graph::check(ErrorKind kind) const {
  std::vector<bool> defined(values_.size(), false);
  for (auto in : inputs_) defined.at(static_cast<std::size_t>(in)) = true;
  for (std::size_t v = 0; v < values_.size(); ++v) {
    if (values_[v].constant) defined[v] = true;
  }
  std::vector<bool> produced(values_.size(), false);
  std::vector<std::size_t> reads(values_.size(), 0);
  for (auto id : order()) {
    const auto& n = node(id);
    if (!n.alive) throw_error(kind, fmt::format("{} is dead but still scheduled", describe(id)));
    for (auto in : n.inputs) {
      if (in == kNoValue) continue;
      if (in >= 0 && static_cast<std::size_t>(in) < values_.size()) ++reads[static_cast<std::size_t>(in)];
      if (in < 0 || static_cast<std::size_t>(in) >= values_.size() || !defined[static_cast<std::size_t>(in)]) {
        throw_error(kind, fmt::format("{} reads '{}', which is not a graph input, an initializer or the output of an "
                                      "earlier node",
                                      describe(id),
                                      in >= 0 && static_cast<std::size_t>(in) < values_.size() ? value(in).name : "?"));
      }
    }
    for (const auto& p : n.post_ops) {
      if (p.kind != PostOpKind::Activation && p.sum_input >= n.inputs.size()) {
        throw_error(kind, fmt::format("{} has a {} post-op on missing input {}", describe(id),
                                      p.kind == PostOpKind::Sum ? "sum" : "bias", p.sum_input));
      }
    }
    for (auto out : n.outputs) {
      const auto o = static_cast<std::size_t>(out);
      if (produced[o] || defined[o]) {
        throw_error(kind, fmt::format("'{}' is produced twice (again by {})", value(out).name, describe(id)));
      }
      if (value(out).producer != id) {
        throw_error(kind, fmt::format("'{}' does not name {} as its producer", value(out).name, describe(id)));
      }
      produced[o] = true;
      defined[o] = true;
    }
  }
  for (auto out : outputs_) {
    if (!defined.at(static_cast<std::size_t>(out))) {
      throw_error(kind, fmt::format("graph output '{}' is never computed", value(out).name));
    }
  }
  for (std::size_t v = 0; v < values_.size(); ++v) {
    if (reads[v] != readers_[v].size()) {
      throw_error(kind, fmt::format("the reader index of '{}' is stale: a node's inputs were changed without "
                                    "Graph::set_input",
                                    values_[v].name));
    }
  }
}

std::map<OpType, int> Graph::op_counts() const {
  std::map<OpType, int> counts;
  for (auto id : order()) ++counts[node(id).op];
  return counts;
}

int Graph::count(OpType op) const {
  int c = 0;
  for (auto id : order()) c += node(id).op == op ? 1 : 0;
  return c;
}

std::string Graph::describe(NodeId id) const {
  const auto& n = node(id);
  if (n.name.empty() && !n.outputs.empty()) {
    return fmt::format("unnamed {} node producing '{}'", op_type_name(n.op), value(n.outputs[0]).name);
  }
  return describe_node(n);
}

std::string Graph::unique_value_name(const std::string& base) {
  // Names from the file are registered by the loader through this too, so a
  // made-up name never collides with a real one.
  auto& n = name_counts_[base];
  ++n;
  if (n == 1) return base;
  return unique_value_name(fmt::format("{}_{}", base, n - 1));
}

}  // namespace pt2onnx::runtime
