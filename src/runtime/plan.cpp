#include "runtime/plan.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <unordered_map>

#include <fmt/format.h>

#include "pt2onnx/error.h"
#include "runtime/threads.h"

namespace pt2onnx::runtime {
namespace {

// Cache-line and AVX-512 alignment for every activation buffer.
constexpr std::size_t kAlignment = 64;

std::size_t align_up(std::size_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

SlotId storage_of(const Plan& plan, SlotId s) {
  const auto& slot = plan.slots[static_cast<std::size_t>(s)];
  return slot.storage == kNoSlot ? s : slot.storage;
}

}  // namespace

void plan_memory(Plan& plan) {
  const auto n = plan.slots.size();
  constexpr int kUnused = -2;
  std::vector<int> first(n, kUnused), last(n, kUnused);
  auto touch = [&](SlotId s, int step) {
    if (plan.slots[static_cast<std::size_t>(s)].kind != SlotKind::Arena) return;
    const auto root = static_cast<std::size_t>(storage_of(plan, s));
    if (first[root] == kUnused || step < first[root]) first[root] = step;
    last[root] = std::max(last[root], step);
  };
  // Inputs are written before the first step, outputs read after the last.
  for (auto s : plan.input_slots) touch(s, -1);
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    for (auto s : plan.steps[i].reads) touch(s, static_cast<int>(i));
    for (auto s : plan.steps[i].writes) touch(s, static_cast<int>(i));
  }
  for (auto s : plan.output_slots) touch(s, static_cast<int>(plan.steps.size()));

  // Greedy: biggest buffers first, each at the lowest offset that does not
  // overlap a placed buffer whose lifetime intersects its own.
  struct Placed {
    std::size_t offset, size;
    int first, last;
  };
  std::vector<std::size_t> roots;
  for (std::size_t s = 0; s < n; ++s) {
    if (plan.slots[s].kind == SlotKind::Arena && plan.slots[s].storage == kNoSlot && first[s] != kUnused)
      roots.push_back(s);
  }
  std::stable_sort(roots.begin(), roots.end(), [&](std::size_t a, std::size_t b) {
    return plan.slots[a].md.get_size() > plan.slots[b].md.get_size();
  });
  std::vector<Placed> placed;
  std::size_t total = 0;
  for (auto s : roots) {
    const auto size = align_up(plan.slots[s].md.get_size());
    std::vector<std::pair<std::size_t, std::size_t>> busy;
    for (const auto& p : placed) {
      if (p.first <= last[s] && first[s] <= p.last) busy.emplace_back(p.offset, p.offset + p.size);
    }
    std::sort(busy.begin(), busy.end());
    std::size_t offset = 0;
    for (const auto& [b, e] : busy) {
      if (offset + size <= b) break;
      offset = std::max(offset, e);
    }
    plan.slots[s].offset = offset;
    placed.push_back({offset, size, first[s], last[s]});
    total = std::max(total, offset + size);
  }
  for (auto& slot : plan.slots) {
    if (slot.kind == SlotKind::Arena && slot.storage != kNoSlot) {
      slot.offset = plan.slots[static_cast<std::size_t>(slot.storage)].offset;
    }
  }
  plan.arena_bytes = total;
}

PlanInstance::PlanInstance(std::shared_ptr<const Plan> plan, const dnnl::engine& engine, bool huge_pages)
    : plan_(std::move(plan)), engine_(engine), stream_(engine) {
  arena_ = allocate_large(plan_->arena_bytes, huge_pages);
  scratchpad_ = allocate_large(plan_->scratchpad_bytes, huge_pages);
  memories_.reserve(plan_->slots.size());
  for (const auto& slot : plan_->slots) {
    if (slot.kind == SlotKind::Constant) {
      memories_.push_back(slot.constant);
    } else {
      memories_.emplace_back(slot.md, engine_, static_cast<void*>(arena_.get() + slot.offset));
    }
  }
  step_args_.resize(plan_->steps.size());
  for (std::size_t i = 0; i < plan_->steps.size(); ++i) {
    const auto& step = plan_->steps[i];
    for (const auto& [arg, slot] : step.args) step_args_[i].emplace(arg, memories_[static_cast<std::size_t>(slot)]);
    if (step.scratchpad) {
      step_args_[i].emplace(DNNL_ARG_SCRATCHPAD,
                            dnnl::memory(*step.scratchpad, engine_, static_cast<void*>(scratchpad_.get())));
    }
  }
}

std::vector<Tensor> PlanInstance::run(const std::vector<const Tensor*>& inputs) {
  std::vector<const std::byte*> in;
  for (const auto* t : inputs) in.push_back(t->bytes().data());
  std::vector<Tensor> outputs;
  std::vector<std::byte*> out;
  for (const auto& shape : plan_->output_shapes) {
    outputs.emplace_back(DType::Float32, shape);
    out.push_back(outputs.back().bytes().data());
  }
  run_into(in, out);
  return outputs;
}

void PlanInstance::run_into(const std::vector<const std::byte*>& inputs, const std::vector<std::byte*>& outputs) {
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto& slot = plan_->slots[static_cast<std::size_t>(plan_->input_slots[i])];
    std::memcpy(arena_.get() + slot.offset, inputs[i], slot.md.get_size());
  }
  // Tiny steps run without a team (Step::one_thread); the team size is
  // switched only where the kind of step changes.
  const int team = current_thread_count();
  bool alone = false;
  for (std::size_t i = 0; i < plan_->steps.size(); ++i) {
    const auto& step = plan_->steps[i];
    if (team > 1 && step.one_thread != alone) {
      alone = step.one_thread;
      set_thread_count(alone ? 1 : team);
    }
    if (step.primitive) {
      step.primitive->execute(stream_, step_args_[i]);
    } else {
      step.custom(memories_);
    }
  }
  if (alone) set_thread_count(team);
  stream_.wait();
  for (std::size_t i = 0; i < plan_->output_slots.size(); ++i) {
    const auto& slot = plan_->slots[static_cast<std::size_t>(plan_->output_slots[i])];
    if (slot.md.get_size() == 0) continue;  // an empty output: no memory on either side
    std::memcpy(outputs[i], memories_[static_cast<std::size_t>(plan_->output_slots[i])].get_data_handle(),
                slot.md.get_size());
  }
}

}  // namespace pt2onnx::runtime
