#include "infer/selected_inputs.h"

#include "pt2onnx/error.h"

namespace pt2onnx::infer {

SelectedInputs::SelectedInputs(std::vector<std::string> arguments, Shard shard,
                               const std::unordered_set<std::string>* done)
    : walker_(std::move(arguments)), shard_(shard), done_(done) {}

std::optional<InputItem> SelectedInputs::next() {
  while (auto item = walker_.next()) {
    const std::int64_t position = position_++;
    if (!shard_.owns(position)) continue;
    if (done_ != nullptr && done_->count(item->path) != 0) continue;
    return item;
  }
  return std::nullopt;
}

std::optional<std::int64_t> count_selected(const std::vector<std::string>& arguments, Shard shard,
                                           const std::unordered_set<std::string>* done, const std::atomic<bool>& stop) {
  try {
    SelectedInputs inputs(arguments, shard, done);
    std::int64_t n = 0;
    while (inputs.next()) {
      if (stop.load(std::memory_order_relaxed)) return std::nullopt;
      ++n;
    }
    return n;
  } catch (const Error&) {
    return std::nullopt;  // the run itself will report it
  }
}

}  // namespace pt2onnx::infer
