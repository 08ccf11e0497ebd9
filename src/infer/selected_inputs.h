// The inputs one `pt2onnx infer` run processes: the walk over its arguments,
// narrowed to its --shard and past the paths --resume found done.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "infer/input_walker.h"

namespace pt2onnx::infer {

class SelectedInputs {
 public:
  // `done` may be null (no --resume); it must outlive this object.
  SelectedInputs(std::vector<std::string> arguments, Shard shard, const std::unordered_set<std::string>* done);

  std::optional<InputItem> next();

 private:
  InputWalker walker_;
  Shard shard_;
  const std::unordered_set<std::string>* done_;
  // Counts every walked input, before --resume skips any, so that a shard
  // owns the same inputs on every run.
  std::int64_t position_ = 0;
};

// How many inputs a run with these arguments will process (for the progress
// bar's total); nullopt when `stop` was raised or the walk failed.
std::optional<std::int64_t> count_selected(const std::vector<std::string>& arguments, Shard shard,
                                           const std::unordered_set<std::string>* done, const std::atomic<bool>& stop);

}  // namespace pt2onnx::infer
