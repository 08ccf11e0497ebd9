#include "runtime/plan_builder.h"

#include <climits>

#include <fmt/format.h>

#include "runtime/op_util.h"
#include "runtime/threads.h"

namespace pt2onnx::runtime {

PlanBuilder::PlanBuilder(const Graph& g, const dnnl::engine& engine, WeightCache& weights)
    : g_(g), engine_(engine), weights_(weights), plan_(std::make_shared<Plan>()) {
  value_slot_.assign(g.value_count(), kNoSlot);
  last_use_.assign(g.value_count(), -1);
  layouts_.resize(g.value_count());
  int position = 0;
  for (auto id : g.order()) {
    for (auto in : g.node(id).inputs) {
      if (in != kNoValue) last_use_[static_cast<std::size_t>(in)] = position;
    }
    ++position;
  }
  for (auto out : g.outputs()) last_use_[static_cast<std::size_t>(out)] = INT_MAX;
  // Graph inputs are copied into the arena before the first step.
  for (auto in : g.inputs()) {
    const auto s = new_slot(plain_md(shape(in)), g.value(in).name);
    define(in, s);
    plan_->input_slots.push_back(s);
  }
}

dnnl::primitive_attr PlanBuilder::attr() const {
  dnnl::primitive_attr a;
  // Each instance brings its own scratchpad, so instances can run concurrently.
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return a;
}

std::vector<std::int64_t> PlanBuilder::shape(ValueId v) const { return concrete_shape(g_, v); }

void PlanBuilder::begin_node(NodeId id, int position, bool one_thread) {
  position_ = position;
  one_thread_ = one_thread;
  label_ = g_.describe(id);
}

SlotId PlanBuilder::storage(SlotId s) const {
  const auto& slot = plan_->slots[static_cast<std::size_t>(s)];
  return slot.storage == kNoSlot ? s : slot.storage;
}

SlotId PlanBuilder::slot(ValueId v) {
  auto& s = value_slot_.at(static_cast<std::size_t>(v));
  if (s != kNoSlot) return s;
  const auto& value = g_.value(v);
  if (!value.constant) {
    throw_error(ErrorKind::Internal, fmt::format("{}: '{}' is read before it is computed", label_, value.name));
  }
  if (value.constant->dtype() != DType::Float32) {
    throw_error(ErrorKind::Unsupported, fmt::format("{}: constant '{}' is {}; the engine computes in float32", label_,
                                                    value.name, dtype_name(value.constant->dtype())));
  }
  const auto md = plain_md(value.constant->shape());
  s = constant(v, md, md);
  return s;
}

memory::desc PlanBuilder::md(ValueId v) { return slot_md(slot(v)); }

SlotId PlanBuilder::in_layout(ValueId v, const memory::desc& want) {
  const auto s = slot(v);
  if (slot_md(s) == want) return s;
  for (const auto& [md, copy] : layouts_[static_cast<std::size_t>(v)]) {
    if (md == want) return copy;
  }
  SlotId copy = kNoSlot;
  if (g_.is_constant(v)) {
    copy = constant(v, slot_md(s), want);
  } else {
    copy = new_slot(want, g_.value(v).name + ".reordered");
    add_reorder(s, copy);
  }
  layouts_[static_cast<std::size_t>(v)].emplace_back(want, copy);
  return copy;
}

SlotId PlanBuilder::plain(ValueId v) {
  const auto want = plain_md(shape(v));
  const auto s = slot(v);
  if (slot_md(s) == want) return s;
  // Same bytes in row-major order (e.g. NHWC with H = W = 1): a view, no copy.
  if (is_plain(slot_md(s)) && slot_md(s).get_size() == want.get_size()) {
    if (plan_->slots[static_cast<std::size_t>(s)].kind == SlotKind::Constant) return in_layout(v, want);
    return view(s, want);
  }
  return in_layout(v, want);
}

SlotId PlanBuilder::reshaped(ValueId v, const std::vector<std::int64_t>& dims) {
  const auto want = plain_md(dims);
  if (g_.is_constant(v)) {
    if (slot_md(slot(v)) == want) return slot(v);
    return constant(v, want, want);
  }
  const auto s = plain(v);
  if (slot_md(s) == want) return s;
  return view(s, want);
}

SlotId PlanBuilder::constant(ValueId v, const memory::desc& src_md, const memory::desc& md) {
  const auto& t = g_.value(v).constant;
  Slot slot;
  slot.kind = SlotKind::Constant;
  slot.md = md;
  slot.constant = weights_.get(t, src_md, md);
  slot.label = g_.value(v).name;
  plan_->keep_alive.push_back(t);
  plan_->slots.push_back(std::move(slot));
  return static_cast<SlotId>(plan_->slots.size() - 1);
}

SlotId PlanBuilder::derived_constant(Tensor tensor, const memory::desc& src_md, const memory::desc& md) {
  auto t = std::make_shared<const Tensor>(std::move(tensor));
  dnnl::memory src(src_md, engine_, const_cast<std::byte*>(t->bytes().data()));
  Slot slot;
  slot.kind = SlotKind::Constant;
  slot.md = md;
  if (src_md == md) {
    slot.constant = src;
  } else {
    slot.constant = dnnl::memory(md, engine_);
    const ScopedThreadCount one(1);  // as in WeightCache::get
    dnnl::stream stream(engine_);
    dnnl::reorder(src, slot.constant).execute(stream, src, slot.constant);
    stream.wait();
  }
  slot.label = label_ + ".constant";
  plan_->keep_alive.push_back(t);
  plan_->slots.push_back(std::move(slot));
  return static_cast<SlotId>(plan_->slots.size() - 1);
}

SlotId PlanBuilder::new_slot(const memory::desc& md, const std::string& label) {
  Slot slot;
  slot.kind = SlotKind::Arena;
  slot.md = md;
  slot.label = label;
  plan_->slots.push_back(std::move(slot));
  return static_cast<SlotId>(plan_->slots.size() - 1);
}

SlotId PlanBuilder::view(SlotId base, const memory::desc& md) {
  if (plan_->slots[static_cast<std::size_t>(base)].kind != SlotKind::Arena) {
    throw_error(ErrorKind::Internal, "a view of a constant slot");
  }
  Slot slot;
  slot.kind = SlotKind::Arena;
  slot.md = md;
  slot.storage = storage(base);
  slot.label = plan_->slots[static_cast<std::size_t>(base)].label + ".view";
  plan_->slots.push_back(std::move(slot));
  return static_cast<SlotId>(plan_->slots.size() - 1);
}

void PlanBuilder::define(ValueId v, SlotId s) {
  value_slot_.at(static_cast<std::size_t>(v)) = s;
  if (plan_->slots[static_cast<std::size_t>(s)].kind != SlotKind::Arena) return;
  auto& last = storage_last_use_[storage(s)];
  last = std::max(last, last_use_[static_cast<std::size_t>(v)]);
}

bool PlanBuilder::dies_here(ValueId v) const {
  const auto s = value_slot_.at(static_cast<std::size_t>(v));
  if (s == kNoSlot || plan_->slots[static_cast<std::size_t>(s)].kind != SlotKind::Arena) return false;
  if (last_use_[static_cast<std::size_t>(v)] > position_) return false;
  const auto it = storage_last_use_.find(storage(s));
  return it != storage_last_use_.end() && it->second <= position_;
}

void PlanBuilder::add_primitive(const dnnl::primitive& p, const dnnl::primitive_desc_base& pd,
                                std::vector<std::pair<int, SlotId>> args, std::vector<SlotId> extra_reads) {
  Step step;
  step.label = label_;
  step.primitive = p;
  for (const auto& [arg, s] : args) {
    if (arg == DNNL_ARG_DST) {
      step.writes.push_back(s);
    } else {
      step.reads.push_back(s);
    }
  }
  step.reads.insert(step.reads.end(), extra_reads.begin(), extra_reads.end());
  step.args = std::move(args);
  step.one_thread = one_thread_;
  const auto scratch = pd.scratchpad_desc();
  if (scratch.get_size() != 0) {
    step.scratchpad = scratch;
    plan_->scratchpad_bytes = std::max(plan_->scratchpad_bytes, scratch.get_size());
  }
  plan_->steps.push_back(std::move(step));
}

void PlanBuilder::add_custom(std::function<void(const SlotMemories&)> fn, std::vector<SlotId> reads,
                             std::vector<SlotId> writes) {
  Step step;
  step.label = label_;
  step.custom = std::move(fn);
  step.reads = std::move(reads);
  step.writes = std::move(writes);
  step.one_thread = one_thread_;
  plan_->steps.push_back(std::move(step));
}

void PlanBuilder::add_reorder(SlotId from, SlotId to) {
  dnnl::reorder::primitive_desc pd(engine_, slot_md(from), engine_, slot_md(to), attr());
  add_primitive(dnnl::reorder(pd), pd, {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}});
  // DNNL_ARG_TO is DNNL_ARG_DST: add_primitive counted it as written.
}

std::shared_ptr<Plan> PlanBuilder::finish() {
  label_ = "graph outputs";
  position_ = INT_MAX;
  for (auto out : g_.outputs()) {
    plan_->output_slots.push_back(plain(out));
    plan_->output_shapes.push_back(shape(out));
  }
  plan_memory(*plan_);
  return plan_;
}

}  // namespace pt2onnx::runtime
