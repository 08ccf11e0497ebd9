// safetensors: an 8-byte little-endian header length N, N bytes of JSON
// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}),
// then the data buffer, which the offsets (relative to it) must cover exactly,
// without gaps or overlaps.
#include <algorithm>
#include <array>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "checkpoint/container_readers.h"
#include "common/checked_math.h"
#include "pt2onnx/error.h"

namespace pt2onnx::checkpoint {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::array<std::pair<std::string_view, DType>, 10> kDTypes{{
    {"F32", DType::Float32},
    {"F16", DType::Float16},
    {"BF16", DType::BFloat16},
    {"F64", DType::Float64},
    {"I64", DType::Int64},
    {"I32", DType::Int32},
    {"I16", DType::Int16},
    {"I8", DType::Int8},
    {"U8", DType::UInt8},
    {"BOOL", DType::Bool},
}};

struct Entry {
  std::string name;
  DType dtype = DType::Float32;
  Shape shape;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

[[noreturn]] void bad_tensor(const std::string& name, const std::string& what) {
  throw Error(ErrorKind::BadInput, what).with_context(fmt::format("header entry '{}'", name));
}

std::uint64_t json_count(const Json& j, const std::string& name, std::string_view what) {
  if (!j.is_number_unsigned()) bad_tensor(name, fmt::format("{} must be non-negative integers", what));
  return j.get<std::uint64_t>();
}

Entry parse_entry(const std::string& name, const Json& j) {
  if (!j.is_object()) bad_tensor(name, "is not an object");
  Entry e;
  e.name = name;
  const auto dtype = j.find("dtype");
  if (dtype == j.end() || !dtype->is_string()) bad_tensor(name, "has no dtype string");
  const auto dtype_str = dtype->get<std::string>();
  auto it = std::find_if(kDTypes.begin(), kDTypes.end(), [&](const auto& d) { return d.first == dtype_str; });
  if (it == kDTypes.end()) {
    throw Error(ErrorKind::Unsupported, fmt::format("dtype {} is not supported", dtype_str))
        .with_context(fmt::format("header entry '{}'", name));
  }
  e.dtype = it->second;
  const auto shape = j.find("shape");
  if (shape == j.end() || !shape->is_array()) bad_tensor(name, "has no shape array");
  for (const auto& d : *shape) {
    const auto v = json_count(d, name, "shape dimensions");
    if (v > (std::uint64_t{1} << 62)) bad_tensor(name, "has a dimension that is too large");
    e.shape.push_back(static_cast<std::int64_t>(v));
  }
  const auto offsets = j.find("data_offsets");
  if (offsets == j.end() || !offsets->is_array() || offsets->size() != 2) {
    bad_tensor(name, "has no data_offsets pair");
  }
  e.begin = json_count((*offsets)[0], name, "data_offsets");
  e.end = json_count((*offsets)[1], name, "data_offsets");
  if (e.end < e.begin) bad_tensor(name, fmt::format("data_offsets [{}, {}] run backwards", e.begin, e.end));
  const auto numel = with_error_context(fmt::format("header entry '{}'", name), [&] { return shape_numel(e.shape); });
  const auto nbytes = checked_mul<std::uint64_t>(static_cast<std::uint64_t>(numel), dtype_size(e.dtype));
  if (!nbytes || *nbytes != e.end - e.begin) {
    bad_tensor(name, fmt::format("data_offsets [{}, {}] span {} bytes but shape {} of {} needs {}", e.begin, e.end,
                                 e.end - e.begin, shape_to_string(e.shape), dtype_str,
                                 nbytes ? fmt::format("{}", *nbytes) : std::string("more than 2^64")));
  }
  return e;
}

}  // namespace

Checkpoint read_safetensors(const InputFile& file, const ReadLimits& limits) {
  std::array<std::byte, 8> len_bytes{};
  file.read_at(0, len_bytes);
  std::uint64_t header_len = 0;
  for (std::size_t i = 8; i-- > 0;) header_len = (header_len << 8) | static_cast<std::uint8_t>(len_bytes[i]);
  if (header_len > limits.max_safetensors_header) {
    throw_error(ErrorKind::BadInput, fmt::format("safetensors header of {} bytes is larger than the {} allowed",
                                                 header_len, limits.max_safetensors_header));
  }
  if (header_len > file.size() - 8) {
    throw_error(ErrorKind::BadInput,
                fmt::format("safetensors header of {} bytes runs past the end of the file ({} bytes)", header_len,
                            file.size()));
  }
  std::string header(static_cast<std::size_t>(header_len), '\0');
  file.read_at(8, std::as_writable_bytes(std::span<char>(header)));
  const Json j = Json::parse(header, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    throw_error(ErrorKind::BadInput, "safetensors header is not a JSON object");
  }

  Checkpoint out;
  out.format = CheckpointFormat::Safetensors;
  std::vector<Entry> entries;
  for (const auto& [name, value] : j.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) throw_error(ErrorKind::BadInput, "__metadata__ is not an object");
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) throw_error(ErrorKind::BadInput, fmt::format("__metadata__ value '{}' is not a string", k));
        out.metadata.emplace_back(k, v.get<std::string>());
      }
      continue;
    }
    entries.push_back(parse_entry(name, value));
  }

  // The data buffer must be covered exactly: sorted by offset, each tensor
  // starts where the previous one ends and the last ends at the end of the file.
  const std::uint64_t data_start = 8 + header_len;
  const std::uint64_t data_len = file.size() - data_start;
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t expected = 0;
  for (const auto& e : entries) {
    if (e.begin != expected) {
      throw Error(ErrorKind::BadInput,
                  fmt::format("data_offsets [{}, {}] {} the previous tensor, which ends at {}", e.begin, e.end,
                              e.begin < expected ? "overlap" : "leave a gap after", expected))
          .with_context(fmt::format("header entry '{}'", e.name));
    }
    expected = e.end;
  }
  if (expected != data_len) {
    throw_error(
        ErrorKind::BadInput,
        fmt::format("tensors cover {} bytes of data but the file holds {} after the header", expected, data_len));
  }

  out.root = Value::dict();
  auto& dict = out.root.as_dict();
  for (auto& e : entries) {
    Tensor t(e.dtype, e.shape);
    with_error_context(fmt::format("tensor '{}'", e.name), [&] { file.read_at(data_start + e.begin, t.bytes()); });
    auto data = std::make_shared<TensorData>();
    data->tensor = std::move(t);
    dict.set(Value::str(e.name), Value::tensor(std::move(data)));
  }
  return out;
}

}  // namespace pt2onnx::checkpoint
