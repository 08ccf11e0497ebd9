// torch.save's zip format (PyTorch 1.6 and later): <prefix>/data.pkl holds the
// pickled object, whose persistent ids name storages stored as
// <prefix>/data/<key>. The prefix is "archive" since 2.x and the file's stem
// before; 2.x adds byteorder, .format_version, .storage_alignment and
// .data/serialization_id records.
#include <unordered_map>

#include <fmt/format.h>

#include "checkpoint/container_readers.h"
#include "checkpoint/tensor_rebuild.h"
#include "checkpoint/torch_storage.h"
#include "checkpoint/unpickler.h"
#include "checkpoint/zip_archive.h"
#include "common/checked_math.h"
#include "pt2onnx/error.h"

namespace pt2onnx::checkpoint {
namespace {

std::string record_text(ZipArchive& zip, const ZipEntry& entry) {
  constexpr std::uint64_t kMaxRecordText = 4096;  // small text records only
  if (entry.size > kMaxRecordText) {
    throw Error(ErrorKind::BadInput, fmt::format("record of {} bytes is too long", entry.size))
        .with_context(fmt::format("entry {}", entry.name));
  }
  auto bytes = zip.read(entry);
  std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

// The one top-level directory holding data.pkl.
std::string find_prefix(const ZipArchive& zip) {
  std::string prefix;
  int found = 0;
  for (const auto& e : zip.entries()) {
    const auto slash = e.name.find('/');
    if (slash == std::string::npos || e.name.substr(slash + 1) != "data.pkl") continue;
    prefix = e.name.substr(0, slash);
    ++found;
  }
  if (found == 0) {
    throw_error(ErrorKind::BadInput, "zip archive has no <dir>/data.pkl record, so it is not a torch.save checkpoint");
  }
  if (found > 1) throw_error(ErrorKind::BadInput, "zip archive has more than one <dir>/data.pkl record");
  return prefix;
}

}  // namespace

Checkpoint read_torch_zip(const InputFile& file, const ReadLimits& limits) {
  ZipArchive zip(file.path(), file.size(),
                 ZipLimits{limits.max_entry_bytes, limits.max_inflated_bytes, limits.max_compression_ratio});
  Checkpoint out;
  out.format = CheckpointFormat::TorchZip;
  const std::string prefix = find_prefix(zip);
  out.metadata.emplace_back("archive", prefix);
  const std::string dir = prefix + "/";

  bool big_endian = false;
  if (const auto* e = zip.find(dir + "byteorder")) {
    const auto order = record_text(zip, *e);
    if (order != "little" && order != "big") {
      throw Error(ErrorKind::BadInput, fmt::format("byte order '{}' is neither little nor big", order))
          .with_context(fmt::format("entry {}", e->name));
    }
    big_endian = order == "big";
    out.metadata.emplace_back("byteorder", order);
  }
  for (const char* record : {"version", ".data/version", ".format_version", ".storage_alignment"}) {
    if (const auto* e = zip.find(dir + record)) out.metadata.emplace_back(record, record_text(zip, *e));
  }

  const auto* pickle_entry = zip.find(dir + "data.pkl");
  if (pickle_entry->size > limits.max_pickle_bytes) {
    throw Error(ErrorKind::BadInput, fmt::format("pickle of {} bytes is larger than the {} allowed", pickle_entry->size,
                                                 limits.max_pickle_bytes))
        .with_context(fmt::format("entry {}", pickle_entry->name));
  }
  const auto pickle = zip.read(*pickle_entry);

  std::unordered_map<std::string, std::shared_ptr<StorageData>> storages;
  auto persistent_load = [&](const Value& pid) -> Value {
    auto id = parse_storage_id(pid);
    if (!id) throw_error(ErrorKind::BadInput, fmt::format("unknown persistent id {}", short_repr(pid)));
    if (!id->dtype) return unread_storage_placeholder(*id);
    auto& storage = storages[id->key];
    if (storage) {
      if (storage->dtype != *id->dtype || storage->numel != id->numel) {
        throw_error(ErrorKind::BadInput,
                    fmt::format("storage '{}' is declared twice with different types or sizes", id->key));
      }
    } else {
      storage = std::make_shared<StorageData>();
      storage->key = id->key;
      storage->dtype = *id->dtype;
      storage->numel = id->numel;
      storage->location = id->location;
      const std::string name = dir + "data/" + id->key;
      const auto* entry = zip.find(name);
      if (entry == nullptr) throw_error(ErrorKind::BadInput, fmt::format("storage record {} is missing", name));
      const auto nbytes = checked_mul<std::uint64_t>(static_cast<std::uint64_t>(id->numel), dtype_size(*id->dtype));
      if (!nbytes || *nbytes != entry->size) {
        throw Error(ErrorKind::BadInput, fmt::format("holds {} bytes but the pickle declares {} elements of {}",
                                                     entry->size, id->numel, dtype_name(*id->dtype)))
            .with_context(fmt::format("entry {}", name));
      }
      storage->bytes = zip.read(*entry);
      if (big_endian) byteswap_elements(storage->bytes, dtype_size(storage->dtype));
      storage->loaded = true;
    }
    return Value::storage(StorageRef{storage, 0, storage->numel});
  };

  auto result = with_error_context(fmt::format("entry {}", pickle_entry->name),
                                   [&] { return unpickle(pickle, persistent_load, UnpickleLimits{limits.max_depth}); });
  std::uint64_t storage_bytes = 0;
  for (const auto& [key, storage] : storages) storage_bytes += storage->bytes.size();
  storages.clear();  // tensors own their storages now; lets materialisation move instead of copy
  materialize_tensors(result.tensors, default_copy_budget(storage_bytes));
  out.root = std::move(result.root);
  return out;
}

}  // namespace pt2onnx::checkpoint
