#include "checkpoint/torch_storage.h"

#include <array>
#include <utility>

#include <fmt/format.h>

#include "checkpoint/pickle_callables.h"
#include "pt2onnx/error.h"

namespace pt2onnx::checkpoint {
namespace {

constexpr std::array<std::pair<std::string_view, DType>, 10> kStorageClasses{{
    {"FloatStorage", DType::Float32},
    {"HalfStorage", DType::Float16},
    {"BFloat16Storage", DType::BFloat16},
    {"DoubleStorage", DType::Float64},
    {"LongStorage", DType::Int64},
    {"IntStorage", DType::Int32},
    {"ShortStorage", DType::Int16},
    {"CharStorage", DType::Int8},
    {"ByteStorage", DType::UInt8},
    {"BoolStorage", DType::Bool},
}};

// torch 1.x and 2.x spell the same class a few ways.
constexpr std::array<std::string_view, 3> kModules{"torch.", "torch.cuda.", "torch.storage."};

std::string as_text(const Value& v, std::string_view what) {
  if (v.is(ValueKind::Str)) return v.as_str();
  if (v.is(ValueKind::Bytes)) return v.as_bytes();  // Python 2 files
  throw_error(ErrorKind::BadInput,
              fmt::format("storage id: {} must be a string, found {}", what, a_value_kind(v.kind())));
}

std::int64_t as_count(const Value& v, std::string_view what) {
  if (!v.is(ValueKind::Int) || v.as_int() < 0) {
    throw_error(ErrorKind::BadInput,
                fmt::format("storage id: {} must be a non-negative int, found {}", what, short_repr(v)));
  }
  return v.as_int();
}

}  // namespace

std::optional<DType> dtype_of_storage_class(std::string_view name) {
  for (auto module : kModules) {
    if (!name.starts_with(module)) continue;
    const auto cls = name.substr(module.size());
    if (cls == "UntypedStorage" || cls == "_UntypedStorage") return DType::UInt8;
    for (const auto& [storage, dtype] : kStorageClasses) {
      if (cls == storage) return dtype;
    }
  }
  return std::nullopt;
}

std::string_view storage_class_of_dtype(DType dtype) {
  for (const auto& [storage, d] : kStorageClasses) {
    if (d == dtype) return storage;
  }
  return "FloatStorage";  // every DType is listed above
}

std::optional<StorageId> parse_storage_id(const Value& pid) {
  if (!pid.is(ValueKind::Tuple) || pid.as_sequence().items.empty()) {
    throw_error(ErrorKind::BadInput, fmt::format("persistent id {} is not a tuple", short_repr(pid)));
  }
  const auto& items = pid.as_sequence().items;
  const auto type = as_text(items[0], "the type tag");
  if (type != "storage") return std::nullopt;
  if (items.size() != 5 && items.size() != 6) {
    throw_error(ErrorKind::BadInput, fmt::format("storage id has {} elements, expected 5 or 6", items.size()));
  }
  StorageId id;
  id.storage_class = global_name(items[1]);
  if (id.storage_class.empty()) {
    throw_error(ErrorKind::BadInput, fmt::format("storage id: {} is not a storage class", short_repr(items[1])));
  }
  id.dtype = dtype_of_storage_class(id.storage_class);
  id.key = as_text(items[2], "the key");
  id.location = as_text(items[3], "the location");
  id.numel = as_count(items[4], "the element count");
  if (items.size() == 6 && !items[5].is_none()) {
    const auto& view = items[5];
    if (!view.is(ValueKind::Tuple) || view.as_sequence().items.size() != 3) {
      throw_error(ErrorKind::BadInput, "storage id: view metadata must be (key, offset, size)");
    }
    const auto& v = view.as_sequence().items;
    id.view = LegacyStorageView{as_text(v[0], "the view key"), as_count(v[1], "the view offset"),
                                as_count(v[2], "the view size")};
  }
  return id;
}

Value unread_storage_placeholder(const StorageId& id) {
  auto p = std::make_shared<PlaceholderData>();
  p->class_name = id.storage_class;
  p->called = true;
  p->reason = "a storage type pt2onnx does not read";
  return Value::placeholder(std::move(p));
}

}  // namespace pt2onnx::checkpoint
