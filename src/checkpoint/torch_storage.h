// torch's storage classes and the persistent ids torch.save writes for them:
// ('storage', torch.FloatStorage, key, location, numel) in the zip format, with
// a sixth view_metadata element in the legacy format.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "checkpoint/value.h"
#include "pt2onnx/dtype.h"

namespace pt2onnx::checkpoint {

// "torch.FloatStorage" -> Float32, ..., "torch.UntypedStorage" -> UInt8 (raw bytes).
std::optional<DType> dtype_of_storage_class(std::string_view qualified_name);
// Float32 -> "FloatStorage", the name torch pickles as GLOBAL torch <name>.
std::string_view storage_class_of_dtype(DType dtype);

struct LegacyStorageView {
  std::string view_key;
  std::int64_t offset = 0;  // elements into the root storage
  std::int64_t numel = 0;
};

struct StorageId {
  std::string storage_class;   // "torch.FloatStorage"
  std::optional<DType> dtype;  // empty for storage classes pt2onnx does not read (complex, quantized)
  std::string key;
  std::string location;
  std::int64_t numel = 0;  // elements
  std::optional<LegacyStorageView> view;
};

// Parses a persistent id. Returns nullopt for ids that are not storages (the
// legacy format's 'module' ids); throws Error(BadInput) for malformed ones.
std::optional<StorageId> parse_storage_id(const Value& pid);

// What a storage of a class pt2onnx does not read (complex, quantized) becomes:
// an inert placeholder; a tensor on it becomes a placeholder too.
Value unread_storage_placeholder(const StorageId& id);

}  // namespace pt2onnx::checkpoint
