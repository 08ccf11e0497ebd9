// A compiled plan: the steps (prepared oneDNN primitives and a few plain
// copies) that run the graph for one set of input shapes, and the memory
// slots they read and write. A Plan is immutable once built and can be shared
// by several PlanInstances (one per concurrent stream), each owning its
// activation arena and scratchpad.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "pt2onnx/tensor.h"
#include "runtime/large_buffers.h"

namespace pt2onnx::runtime {

using SlotId = std::int32_t;
inline constexpr SlotId kNoSlot = -1;

enum class SlotKind {
  Arena,     // bytes in the instance's activation arena, at `offset`
  Constant,  // prepared constant memory (weights), shared by all instances
};

struct Slot {
  SlotKind kind = SlotKind::Arena;
  dnnl::memory::desc md;
  std::size_t offset = 0;  // Arena: set by the memory planner
  dnnl::memory constant;   // Constant
  // Arena slots that are views of another slot's bytes (Reshape, in-place
  // kernels) share its storage: `storage` is the slot that owns the bytes.
  SlotId storage = kNoSlot;
  std::string label;
};

using SlotMemories = std::vector<dnnl::memory>;

struct Step {
  std::string label;  // the node it came from
  std::optional<dnnl::primitive> primitive;
  std::vector<std::pair<int, SlotId>> args;         // DNNL_ARG_* -> slot
  std::optional<dnnl::memory::desc> scratchpad;     // user-managed scratchpad of the primitive
  std::function<void(const SlotMemories&)> custom;  // a non-oneDNN step
  std::vector<SlotId> reads;                        // for liveness
  std::vector<SlotId> writes;
  // A tiny step (planner.cpp, kTinyStepElements): built and run with a team
  // of one, so it starts no parallel region; its work is less than a team's
  // start and barrier would cost.
  bool one_thread = false;
};

struct Plan {
  std::vector<Slot> slots;
  std::vector<Step> steps;
  std::vector<SlotId> input_slots;   // plain layout, filled from the caller's tensors
  std::vector<SlotId> output_slots;  // plain layout, copied out after the steps
  std::vector<Shape> output_shapes;
  std::size_t arena_bytes = 0;
  std::size_t scratchpad_bytes = 0;
  // Constants the slots point into, kept alive with the plan.
  std::vector<std::shared_ptr<const void>> keep_alive;
};

// Assigns arena offsets: slots whose lifetimes (first write to last read
// over the steps) do not overlap may share bytes. Sets plan.arena_bytes.
void plan_memory(Plan& plan);

// One executable copy of a plan: its arena, scratchpad, memory objects and
// argument maps, built once so that a run allocates nothing but the outputs.
class PlanInstance {
 public:
  // huge_pages: the arena on transparent huge pages (large_buffers.h).
  PlanInstance(std::shared_ptr<const Plan> plan, const dnnl::engine& engine, bool huge_pages = true);
  PlanInstance(const PlanInstance&) = delete;
  PlanInstance& operator=(const PlanInstance&) = delete;

  // Inputs are already checked against the plan's shapes.
  std::vector<Tensor> run(const std::vector<const Tensor*>& inputs);
  // The same on raw buffers: inputs[i] holds the plan's input i (dense
  // row-major float32), outputs[i] receives output i. Allocates nothing.
  void run_into(const std::vector<const std::byte*>& inputs, const std::vector<std::byte*>& outputs);
  [[nodiscard]] const Plan& plan() const { return *plan_; }

 private:
  std::shared_ptr<const Plan> plan_;
  dnnl::engine engine_;
  dnnl::stream stream_;
  LargeBuffer arena_;
  LargeBuffer scratchpad_;
  SlotMemories memories_;
  std::vector<std::unordered_map<int, dnnl::memory>> step_args_;
};

}  // namespace pt2onnx::runtime
