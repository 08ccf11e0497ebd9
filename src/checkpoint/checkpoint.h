// Reading PyTorch checkpoints without Python: torch.save's zip format (1.6+,
// including the 2.x records), its legacy non-zip format, and safetensors.
// The file's content decides the format, not its name. Every file is treated
// as hostile: nothing in a pickle is executed, and every size is checked
// against the bytes that are really there (see unpickler.h, zip_archive.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "checkpoint/state_dict.h"
#include "checkpoint/value.h"

namespace pt2onnx::checkpoint {

enum class CheckpointFormat { TorchZip, TorchLegacy, Safetensors };

std::string_view format_name(CheckpointFormat format);  // "torch-zip", "torch-legacy", "safetensors"

struct ReadLimits {
  std::uint64_t max_entry_bytes = std::uint64_t{1} << 36;     // one zip record or tensor: 64 GiB
  std::uint64_t max_pickle_bytes = std::uint64_t{1} << 30;    // the pickled object tree: 1 GiB
  std::uint64_t max_inflated_bytes = std::uint64_t{1} << 32;  // total from deflated zip entries: 4 GiB
  std::uint64_t max_compression_ratio = 100;                  // deflated zip entries (torch stores them)
  std::uint64_t max_safetensors_header = 100u << 20;          // as the safetensors library caps it
  std::size_t max_depth = 200;                                // container nesting
};

struct Checkpoint {
  CheckpointFormat format = CheckpointFormat::TorchZip;
  Value root;
  // Container facts worth showing: zip records (archive prefix, version,
  // byteorder) or safetensors' __metadata__, in file order.
  std::vector<std::pair<std::string, std::string>> metadata;
};

// The format by the file's first bytes, or nullopt when it is none of them.
// Throws Error(Io) if the file cannot be read, Error(BadInput) if it is empty.
std::optional<CheckpointFormat> detect_checkpoint_format(const std::filesystem::path& path);

// The whole object tree, tensors materialised. Errors name the file, then the
// entry or offset, then what is wrong: Error(BadInput) for malformed, truncated
// or unsafe files, Error(Io) for unreadable ones, Error(Unsupported) for valid
// features pt2onnx does not read.
Checkpoint read_checkpoint(const std::filesystem::path& path, const ReadLimits& limits = {});

struct LoadedStateDict {
  StateDict state_dict;                            // names with module./_orig_mod. stripped; dtypes as saved
  std::string format;                              // format_name()
  std::string found_under;                         // dotted path of the state dict in the file; "" for the root
  std::optional<std::vector<std::string>> labels;  // a training checkpoint's 'labels' entry, if any
  std::vector<std::string> stripped_prefixes;      // e.g. {"module."}
};

// Where the weights are: `key` (a dotted path, list indices in decimal) if
// given; else the root if it is a state dict; else the first of
// model_state_dict, state_dict, model, net, ema that holds one.
struct StateDictLocation {
  Value dict;
  std::string path;
};
StateDictLocation find_state_dict(const Value& root, const std::optional<std::string>& key = {});

// Throws Error(BadInput) naming the first entry that is not a string-keyed
// tensor (for a placeholder: the callable that was not run, and why).
void check_state_dict(const StateDictLocation& location);

// The wrapper prefixes ("module.", "_orig_mod.") that every one of these
// names starts with, in the order they would be stripped.
std::vector<std::string> common_wrapper_prefixes(std::vector<std::string> names);

// The state dict of a checkpoint read by read_checkpoint (consumed: tensors are moved out).
LoadedStateDict extract_state_dict(Checkpoint&& checkpoint, const std::optional<std::string>& key = {});

// read_checkpoint + extract_state_dict, errors prefixed with the file.
LoadedStateDict load_state_dict(const std::filesystem::path& path, const std::optional<std::string>& key = {},
                                const ReadLimits& limits = {});

// Writes {wrapper_key: OrderedDict(state)} (the bare OrderedDict when
// wrapper_key is empty) as torch 1.13's torch.save would: a zip of stored
// records, archive/data.pkl (pickle protocol 2), archive/data/<n> aligned to
// 64 bytes, archive/version. Atomic: a temporary file beside `out`, renamed.
void write_torch_zip(const std::filesystem::path& out, const StateDict& state, const std::string& wrapper_key);

}  // namespace pt2onnx::checkpoint
