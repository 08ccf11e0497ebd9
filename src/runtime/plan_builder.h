// What kernels use to build a plan: which slot and layout each value is in,
// reorders where a kernel wants another layout, constants prepared through
// the weight cache, in-place reuse of dying buffers, and the step list.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/dnnl_util.h"
#include "runtime/graph.h"
#include "runtime/plan.h"
#include "runtime/weight_cache.h"

namespace pt2onnx::runtime {

class PlanBuilder {
 public:
  PlanBuilder(const Graph& g, const dnnl::engine& engine, WeightCache& weights);

  [[nodiscard]] const Graph& graph() const { return g_; }
  [[nodiscard]] const dnnl::engine& engine() const { return engine_; }
  // Attributes every primitive starts from (user-managed scratchpad).
  [[nodiscard]] dnnl::primitive_attr attr() const;
  [[nodiscard]] std::vector<std::int64_t> shape(ValueId v) const;

  // Called by the planner before each node's kernel is built.
  // `one_thread`: the node's steps run without a team (Step::one_thread).
  void begin_node(NodeId id, int position, bool one_thread = false);

  // The slot holding v and its layout. Constants get a plain constant slot.
  SlotId slot(ValueId v);
  memory::desc md(ValueId v);
  // v in layout `md`: its own slot if the layouts agree, else a reorder
  // (made once per value and layout).
  SlotId in_layout(ValueId v, const memory::desc& md);
  // v as dense row-major over its shape (a view when already dense).
  SlotId plain(ValueId v);
  // v's elements, row-major, seen with other dims of the same element count
  // (a view, or a constant slot over the same bytes).
  SlotId reshaped(ValueId v, const std::vector<std::int64_t>& dims);
  // v (a constant) seen through src_md and delivered in md, via the weight cache.
  SlotId constant(ValueId v, const memory::desc& src_md, const memory::desc& md);
  // A constant made by a kernel (e.g. scaled Gemm operands), not cached across plans.
  SlotId derived_constant(Tensor tensor, const memory::desc& src_md, const memory::desc& md);

  SlotId new_slot(const memory::desc& md, const std::string& label);
  // The bytes of `base` seen with another descriptor.
  SlotId view(SlotId base, const memory::desc& md);
  [[nodiscard]] const memory::desc& slot_md(SlotId s) const { return plan_->slots[static_cast<std::size_t>(s)].md; }
  void define(ValueId v, SlotId s);
  // True when v's bytes may be overwritten by the current node: no later
  // reader of v or of anything sharing its storage, and not a graph output.
  [[nodiscard]] bool dies_here(ValueId v) const;
  // True when two slots share bytes.
  [[nodiscard]] bool same_storage(SlotId a, SlotId b) const { return storage(a) == storage(b); }

  // Adds a primitive step; DNNL_ARG_DST slots count as written, the others
  // as read, plus extra_reads (a sum post-op reads its destination).
  void add_primitive(const dnnl::primitive& p, const dnnl::primitive_desc_base& pd,
                     std::vector<std::pair<int, SlotId>> args, std::vector<SlotId> extra_reads = {});
  void add_custom(std::function<void(const SlotMemories&)> fn, std::vector<SlotId> reads, std::vector<SlotId> writes);
  // Copies (converting the layout) from one slot into another.
  void add_reorder(SlotId from, SlotId to);

  // Marks graph inputs and outputs and returns the finished plan (memory planned).
  std::shared_ptr<Plan> finish();
  // The current node, for messages.
  [[nodiscard]] std::string label() const { return label_; }

 private:
  SlotId storage(SlotId s) const;

  const Graph& g_;
  dnnl::engine engine_;
  WeightCache& weights_;
  std::shared_ptr<Plan> plan_;
  std::vector<SlotId> value_slot_;
  std::vector<int> last_use_;  // per value: position of its last reader
  std::map<SlotId, int> storage_last_use_;
  std::vector<std::vector<std::pair<memory::desc, SlotId>>> layouts_;  // per value: reordered copies
  int position_ = 0;
  bool one_thread_ = false;
  std::string label_;
};

}  // namespace pt2onnx::runtime
