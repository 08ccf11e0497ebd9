// torch.save's legacy format (_use_new_zipfile_serialization=False, and every
// file before PyTorch 1.6): five things back to back in one stream, namely
// pickles of the magic number, the protocol version (1001) and a sys_info
// dict, the pickled object itself, a pickled list of storage keys, and then
// each listed storage's raw bytes, preceded by its element count as int64.
#include <unordered_map>

#include <fmt/format.h>

#include "checkpoint/container_readers.h"
#include "checkpoint/tensor_rebuild.h"
#include "checkpoint/torch_storage.h"
#include "checkpoint/unpickler.h"
#include "common/byte_reader.h"
#include "common/checked_math.h"
#include "pt2onnx/error.h"

namespace pt2onnx::checkpoint {
namespace {

constexpr std::string_view kMagicNumber = "119547037146038801333356";  // 0x1950a86a20f9469cfc6c
constexpr std::int64_t kProtocolVersion = 1001;

// Unpickles the next pickle in the stream and advances past it.
UnpickleResult next_pickle(std::span<const std::byte> data, std::size_t& pos, std::string_view what,
                           const PersistentLoad& persistent_load, const ReadLimits& limits) {
  return with_error_context(fmt::format("{} pickle", what), [&] {
    auto r = unpickle(data.subspan(pos), persistent_load, UnpickleLimits{limits.max_depth}, pos);
    pos += r.consumed;
    return r;
  });
}

}  // namespace

Checkpoint read_torch_legacy(const InputFile& file, const ReadLimits& limits) {
  // The whole file is read: its size is real, and the pickles must be parsed
  // before the storage section can be found.
  const auto data = file.read_all();
  std::size_t pos = 0;

  auto magic = next_pickle(data, pos, "magic number", {}, limits).root;
  if (!magic.is(ValueKind::BigInt) || magic.as_big_int() != kMagicNumber) {
    throw_error(ErrorKind::BadInput, "a pickle without torch's magic number, so not a torch.save checkpoint");
  }
  auto protocol = next_pickle(data, pos, "protocol version", {}, limits).root;
  if (!protocol.is(ValueKind::Int) || protocol.as_int() != kProtocolVersion) {
    throw_error(ErrorKind::Unsupported, fmt::format("legacy torch.save protocol {} (only {} is known)",
                                                    short_repr(protocol), kProtocolVersion));
  }
  auto sys_info = next_pickle(data, pos, "sys_info", {}, limits).root;
  if (sys_info.is(ValueKind::Dict)) {
    const auto* little = sys_info.as_dict().find("little_endian");
    if (little != nullptr && little->is(ValueKind::Bool) && !little->as_bool()) {
      throw_error(ErrorKind::Unsupported, "a legacy checkpoint written on a big-endian machine");
    }
  }

  std::unordered_map<std::string, std::shared_ptr<StorageData>> storages;
  auto persistent_load = [&](const Value& pid) -> Value {
    auto id = parse_storage_id(pid);
    if (!id) {
      // ('module', class, source file, source): the source of a pickled nn.Module; inert.
      auto p = std::make_shared<PlaceholderData>();
      p->class_name = fmt::format("persistent id {}", short_repr(pid, 40));
      p->called = true;
      p->reason = "a persistent id pt2onnx does not interpret";
      return Value::placeholder(std::move(p));
    }
    if (!id->dtype) return unread_storage_placeholder(*id);
    auto& storage = storages[id->key];
    if (!storage) {
      storage = std::make_shared<StorageData>();
      storage->key = id->key;
      storage->dtype = *id->dtype;
      storage->numel = id->numel;
      storage->location = id->location;
    } else if (storage->dtype != *id->dtype || storage->numel != id->numel) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("storage '{}' is declared twice with different types or sizes", id->key));
    }
    StorageRef ref{storage, 0, storage->numel};
    if (id->view) {
      const auto end = checked_add(id->view->offset, id->view->numel);
      if (!end || *end > storage->numel) {
        throw_error(ErrorKind::BadInput, fmt::format("storage view '{}' ({} elements at {}) is outside storage '{}'",
                                                     id->view->view_key, id->view->numel, id->view->offset, id->key));
      }
      ref.element_offset = id->view->offset;
      ref.numel = id->view->numel;
    }
    return Value::storage(std::move(ref));
  };
  auto object = next_pickle(data, pos, "object", persistent_load, limits);
  auto keys = next_pickle(data, pos, "storage keys", {}, limits).root;
  if (!keys.is(ValueKind::List) && !keys.is(ValueKind::Tuple)) {
    throw_error(ErrorKind::BadInput, fmt::format("the storage key list is {}", a_value_kind(keys.kind())));
  }

  ByteReader in(std::span<const std::byte>(data).subspan(pos), pos);
  for (const auto& key_value : keys.as_sequence().items) {
    if (!key_value.is(ValueKind::Str)) throw_error(ErrorKind::BadInput, "a storage key is not a string");
    const auto& key = key_value.as_str();
    with_error_context(fmt::format("storage '{}' at offset {}", key, in.offset()), [&] {
      auto it = storages.find(key);
      if (it == storages.end()) throw_error(ErrorKind::BadInput, "listed but never used by the object");
      StorageData& storage = *it->second;
      if (storage.loaded) throw_error(ErrorKind::BadInput, "listed twice");
      const std::int64_t numel = in.i64_le();
      if (numel != storage.numel) {
        throw_error(ErrorKind::BadInput,
                    fmt::format("holds {} elements but the pickle declares {}", numel, storage.numel));
      }
      const auto nbytes = checked_mul<std::uint64_t>(static_cast<std::uint64_t>(numel), dtype_size(storage.dtype));
      if (!nbytes || *nbytes > in.remaining() || *nbytes > limits.max_entry_bytes) {
        throw_error(ErrorKind::BadInput, fmt::format("{} elements of {} do not fit in the {} bytes left", numel,
                                                     dtype_name(storage.dtype), in.remaining()));
      }
      auto bytes = in.bytes(static_cast<std::size_t>(*nbytes));
      storage.bytes.assign(bytes.begin(), bytes.end());
      storage.loaded = true;
    });
  }
  for (const auto& [key, storage] : storages) {
    if (!storage->loaded) throw_error(ErrorKind::BadInput, fmt::format("storage '{}' has no data in the file", key));
  }
  std::uint64_t storage_bytes = 0;
  for (const auto& [key, storage] : storages) storage_bytes += storage->bytes.size();
  storages.clear();  // tensors own their storages now; lets materialisation move instead of copy
  materialize_tensors(object.tensors, default_copy_budget(storage_bytes));

  Checkpoint out;
  out.format = CheckpointFormat::TorchLegacy;
  out.root = std::move(object.root);
  return out;
}

}  // namespace pt2onnx::checkpoint
