// The object tree a checkpoint's pickle describes, without Python: scalars,
// strings, containers, tensors, and inert placeholders for every object whose
// constructor pt2onnx does not interpret. Containers are shared (pickle's memo
// lets one object appear in several places, as in Python); the unpickler
// guarantees the tree it returns has no cycles and a bounded depth.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "pt2onnx/tensor.h"

namespace pt2onnx::checkpoint {

enum class ValueKind {
  None,
  Bool,
  Int,
  BigInt,  // an int beyond int64, kept as its decimal string
  Float,
  Str,
  Bytes,
  List,
  Tuple,
  Dict,  // dict and OrderedDict, in insertion order
  Set,   // set and frozenset
  Tensor,
  Storage,      // a bare torch storage (tensors refer to theirs directly)
  Placeholder,  // an object of a class pt2onnx does not construct, or a reference to a global
};

std::string_view value_kind_name(ValueKind kind);  // "None", "int", "dict", "tensor", "object", ...
std::string a_value_kind(ValueKind kind);          // for messages: "an int", "a dict", "None"

// One flat torch storage, named by its key in the file. The container reader
// declares it while unpickling and fills `bytes` once it has read the record.
struct StorageData {
  std::string key;
  DType dtype = DType::Float32;
  std::int64_t numel = 0;  // declared element count
  std::string location;    // "cpu", "cuda:0", ... (informational: everything loads to host memory)
  std::vector<std::byte> bytes;
  bool loaded = false;
};

// A storage as a tensor sees it: the legacy format can hand out a window of a larger one.
struct StorageRef {
  std::shared_ptr<StorageData> data;
  std::int64_t element_offset = 0;
  std::int64_t numel = 0;
};

// Where a tensor's elements sit in its storage; checked against the storage's
// declared size when built, read once the storage bytes are there.
struct TensorView {
  StorageRef storage;
  std::int64_t storage_offset = 0;  // elements
  Shape size;
  Shape stride;  // elements
};

struct TensorData {
  std::optional<TensorView> pending;  // until materialised
  std::optional<Tensor> tensor;       // contiguous copy, after materialisation
  bool is_parameter = false;
  bool requires_grad = false;
};

struct SequenceData;
struct DictData;
struct PlaceholderData;

class Value {
 public:
  Value() = default;  // None

  static Value from_bool(bool b);
  static Value from_int(std::int64_t i);
  static Value big_int(std::string decimal);
  static Value from_float(double d);
  static Value str(std::string s);
  static Value bytes(std::string b);
  static Value list(std::vector<Value> items = {});
  static Value tuple(std::vector<Value> items = {});
  static Value set(std::vector<Value> items = {});
  static Value dict();
  static Value tensor(std::shared_ptr<TensorData> t);
  static Value storage(StorageRef s);
  static Value placeholder(std::shared_ptr<PlaceholderData> p);

  [[nodiscard]] ValueKind kind() const { return kind_; }
  [[nodiscard]] bool is(ValueKind k) const { return kind_ == k; }
  [[nodiscard]] bool is_none() const { return kind_ == ValueKind::None; }
  [[nodiscard]] bool is_sequence() const {
    return kind_ == ValueKind::List || kind_ == ValueKind::Tuple || kind_ == ValueKind::Set;
  }

  // Accessors check the kind and throw Error(BadInput) naming what was expected.
  [[nodiscard]] bool as_bool() const;
  [[nodiscard]] std::int64_t as_int() const;
  [[nodiscard]] double as_float() const;  // Float, or Int/Bool widened
  [[nodiscard]] const std::string& as_str() const;
  [[nodiscard]] const std::string& as_bytes() const;
  [[nodiscard]] const std::string& as_big_int() const;
  [[nodiscard]] SequenceData& as_sequence() const;  // List, Tuple or Set
  [[nodiscard]] DictData& as_dict() const;
  [[nodiscard]] TensorData& as_tensor() const;
  [[nodiscard]] const StorageRef& as_storage() const;
  [[nodiscard]] PlaceholderData& as_placeholder() const;

  [[nodiscard]] const std::shared_ptr<SequenceData>& sequence_ptr() const;
  [[nodiscard]] const std::shared_ptr<DictData>& dict_ptr() const;
  [[nodiscard]] const std::shared_ptr<TensorData>& tensor_ptr() const;
  [[nodiscard]] const std::shared_ptr<PlaceholderData>& placeholder_ptr() const;

  // The identity of a shared object (container, tensor, placeholder), or nullptr for plain values.
  [[nodiscard]] const void* identity() const;

 private:
  // Strings are shared so that pickle's memo can hand out one big bytes object
  // many times without copying it each time.
  using Payload = std::variant<std::monostate, bool, std::int64_t, double, std::shared_ptr<const std::string>,
                               std::shared_ptr<SequenceData>, std::shared_ptr<DictData>, std::shared_ptr<TensorData>,
                               StorageRef, std::shared_ptr<PlaceholderData>>;
  // The one place a Value gets its kind and payload: every factory calls it.
  static Value make(ValueKind kind, Payload payload);

  ValueKind kind_ = ValueKind::None;
  Payload v_;
};

struct SequenceData {
  std::vector<Value> items;
};

// Ordered like a Python dict; keys are any hashable Value, equal keys (1, 1.0
// and True among them, as in Python) share one slot.
struct DictData {
  std::vector<std::pair<Value, Value>> items;

  // Inserts or replaces; throws Error(BadInput) for an unhashable key (list, dict, set).
  void set(Value key, Value value);
  [[nodiscard]] const Value* find(std::string_view str_key) const;
  [[nodiscard]] const Value* find(const Value& key) const;
  void clear() {
    items.clear();
    index_.clear();
  }

 private:
  std::unordered_map<std::string, std::size_t> index_;
};

// An object pt2onnx never constructs: the callable that would build it, the
// arguments it was given, and any state BUILD would have set. A bare global
// (a class or function referred to, not called) is a placeholder with called == false.
struct PlaceholderData {
  std::string class_name;  // "argparse.Namespace", "numpy.core.multiarray.scalar", ...
  bool called = false;
  std::vector<Value> args;
  std::optional<Value> state;                       // from BUILD
  std::vector<Value> list_items;                    // from APPEND(S) on it (list subclasses)
  std::vector<std::pair<Value, Value>> dict_items;  // from SETITEM(S) on it (dict subclasses)
  std::string reason;                               // why it stayed a placeholder, for error messages
};

// A short, Python-like rendering for listings ("0.001", "'adam'", "argparse.Namespace(...)"),
// cut to about max_chars.
std::string short_repr(const Value& value, std::size_t max_chars = 60);

}  // namespace pt2onnx::checkpoint
