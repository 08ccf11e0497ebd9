#include "checkpoint/value.h"

#include <bit>
#include <cmath>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx::checkpoint {
namespace {

// Tuples used as dict keys nest; a hostile pickle could nest them very deeply.
constexpr int kMaxKeyDepth = 64;

[[noreturn]] void wrong_kind(ValueKind have, std::string_view want) {
  throw_error(ErrorKind::BadInput, fmt::format("expected {}, found {}", want, a_value_kind(have)));
}

// A string that is equal for keys Python considers equal, and different otherwise.
std::string hash_key(const Value& v, int depth) {
  if (depth > kMaxKeyDepth) throw_error(ErrorKind::BadInput, "dict key nested too deeply");
  switch (v.kind()) {
    case ValueKind::None:
      return "n";
    case ValueKind::Bool:
      return v.as_bool() ? "i1" : "i0";
    case ValueKind::Int:
      return fmt::format("i{}", v.as_int());
    case ValueKind::BigInt:
      return fmt::format("i{}", v.as_big_int());
    case ValueKind::Float: {
      const double d = v.as_float();
      // 2.0 == 2 in Python, so integral floats in int64 range key like ints.
      if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.2e18) {
        return fmt::format("i{}", static_cast<std::int64_t>(d));
      }
      return fmt::format("f{:x}", std::bit_cast<std::uint64_t>(d));
    }
    case ValueKind::Str:
      return fmt::format("s{}", v.as_str());
    case ValueKind::Bytes:
      return fmt::format("b{}", v.as_bytes());
    case ValueKind::Tuple: {
      std::string out = "t";
      for (const auto& item : v.as_sequence().items) {
        auto k = hash_key(item, depth + 1);
        out += fmt::format("{}:", k.size());
        out += k;
      }
      return out;
    }
    case ValueKind::Tensor:
    case ValueKind::Storage:
    case ValueKind::Placeholder:
      return fmt::format("p{}", v.identity());  // hashed by identity, as in Python
    case ValueKind::List:
    case ValueKind::Dict:
    case ValueKind::Set:
      break;
  }
  throw_error(ErrorKind::BadInput, fmt::format("unhashable dict key of type {}", value_kind_name(v.kind())));
}

std::string float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  auto s = fmt::format("{}", d);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string quoted(std::string_view s, bool is_bytes) {
  std::string out = is_bytes ? "b'" : "'";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\'' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u == 0x7f || (is_bytes && u >= 0x80)) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

// Appends to out until it passes budget; deep or huge trees stop early.
void repr_into(const Value& v, std::string& out, std::size_t budget);

void repr_items(const std::vector<Value>& items, std::string& out, std::size_t budget) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (out.size() > budget) return;
    if (i != 0) out += ", ";
    repr_into(items[i], out, budget);
  }
}

void repr_into(const Value& v, std::string& out, std::size_t budget) {
  if (out.size() > budget) return;
  switch (v.kind()) {
    case ValueKind::None:
      out += "None";
      return;
    case ValueKind::Bool:
      out += v.as_bool() ? "True" : "False";
      return;
    case ValueKind::Int:
      out += fmt::format("{}", v.as_int());
      return;
    case ValueKind::BigInt:
      out += v.as_big_int();
      return;
    case ValueKind::Float:
      out += float_repr(v.as_float());
      return;
    case ValueKind::Str:
      out += quoted(v.as_str().substr(0, budget), false);
      return;
    case ValueKind::Bytes:
      out += quoted(v.as_bytes().substr(0, budget), true);
      return;
    case ValueKind::List:
      out += '[';
      repr_items(v.as_sequence().items, out, budget);
      out += ']';
      return;
    case ValueKind::Tuple: {
      const auto& items = v.as_sequence().items;
      out += '(';
      repr_items(items, out, budget);
      out += items.size() == 1 ? ",)" : ")";
      return;
    }
    case ValueKind::Set: {
      const auto& items = v.as_sequence().items;
      if (items.empty()) {
        out += "set()";
        return;
      }
      out += '{';
      repr_items(items, out, budget);
      out += '}';
      return;
    }
    case ValueKind::Dict: {
      out += '{';
      bool first = true;
      for (const auto& [key, value] : v.as_dict().items) {
        if (out.size() > budget) break;
        if (!first) out += ", ";
        first = false;
        repr_into(key, out, budget);
        out += ": ";
        repr_into(value, out, budget);
      }
      out += '}';
      return;
    }
    case ValueKind::Tensor: {
      const auto& t = v.as_tensor();
      if (t.tensor) {
        out += fmt::format("tensor({}, {})", dtype_name(t.tensor->dtype()), shape_to_string(t.tensor->shape()));
      } else {
        out += "tensor(unread)";
      }
      return;
    }
    case ValueKind::Storage: {
      const auto& s = v.as_storage();
      out += fmt::format("storage({}, {})", dtype_name(s.data->dtype), s.numel);
      return;
    }
    case ValueKind::Placeholder: {
      const auto& p = v.as_placeholder();
      out += p.class_name;
      if (!p.called) return;
      out += '(';
      repr_items(p.args, out, budget);
      // Objects rebuilt from a __dict__ (argparse.Namespace, user classes) read best as keyword arguments.
      if (p.state && p.state->is(ValueKind::Dict)) {
        bool first = p.args.empty();
        for (const auto& [key, value] : p.state->as_dict().items) {
          if (out.size() > budget) break;
          if (!first) out += ", ";
          first = false;
          if (key.is(ValueKind::Str)) {
            out += key.as_str();
          } else {
            repr_into(key, out, budget);
          }
          out += '=';
          repr_into(value, out, budget);
        }
      }
      out += ')';
      return;
    }
  }
}

}  // namespace

std::string_view value_kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::None:
      return "None";
    case ValueKind::Bool:
      return "bool";
    case ValueKind::Int:
    case ValueKind::BigInt:
      return "int";
    case ValueKind::Float:
      return "float";
    case ValueKind::Str:
      return "str";
    case ValueKind::Bytes:
      return "bytes";
    case ValueKind::List:
      return "list";
    case ValueKind::Tuple:
      return "tuple";
    case ValueKind::Dict:
      return "dict";
    case ValueKind::Set:
      return "set";
    case ValueKind::Tensor:
      return "tensor";
    case ValueKind::Storage:
      return "storage";
    case ValueKind::Placeholder:
      return "object";
  }
  return "?";
}

std::string a_value_kind(ValueKind kind) {
  const auto name = value_kind_name(kind);
  if (kind == ValueKind::None) return std::string(name);
  const bool vowel = std::string_view("aeiou").find(name.front()) != std::string_view::npos;
  return fmt::format("{} {}", vowel ? "an" : "a", name);
}

Value Value::make(ValueKind kind, Payload payload) {
  Value v;
  v.kind_ = kind;
  v.v_ = std::move(payload);
  return v;
}

Value Value::from_bool(bool b) { return make(ValueKind::Bool, b); }

Value Value::from_int(std::int64_t i) { return make(ValueKind::Int, i); }

Value Value::big_int(std::string decimal) {
  return make(ValueKind::BigInt, std::make_shared<const std::string>(std::move(decimal)));
}

Value Value::from_float(double d) { return make(ValueKind::Float, d); }

Value Value::str(std::string s) { return make(ValueKind::Str, std::make_shared<const std::string>(std::move(s))); }

Value Value::bytes(std::string b) { return make(ValueKind::Bytes, std::make_shared<const std::string>(std::move(b))); }

Value Value::list(std::vector<Value> items) {
  return make(ValueKind::List, std::make_shared<SequenceData>(SequenceData{std::move(items)}));
}

Value Value::tuple(std::vector<Value> items) {
  Value v = list(std::move(items));
  v.kind_ = ValueKind::Tuple;
  return v;
}

Value Value::set(std::vector<Value> items) {
  Value v = list({});
  v.kind_ = ValueKind::Set;
  // Python's set drops repeated elements; a DictData does the hashing for us.
  DictData seen;
  for (auto& item : items) {
    if (seen.find(item) != nullptr) continue;
    seen.set(item, Value());
    v.as_sequence().items.push_back(std::move(item));
  }
  return v;
}

Value Value::dict() { return make(ValueKind::Dict, std::make_shared<DictData>()); }

Value Value::tensor(std::shared_ptr<TensorData> t) { return make(ValueKind::Tensor, std::move(t)); }

Value Value::storage(StorageRef s) { return make(ValueKind::Storage, std::move(s)); }

Value Value::placeholder(std::shared_ptr<PlaceholderData> p) { return make(ValueKind::Placeholder, std::move(p)); }

bool Value::as_bool() const {
  if (kind_ != ValueKind::Bool) wrong_kind(kind_, "a bool");
  return std::get<bool>(v_);
}

std::int64_t Value::as_int() const {
  if (kind_ == ValueKind::Bool) return std::get<bool>(v_) ? 1 : 0;
  if (kind_ != ValueKind::Int) wrong_kind(kind_, "an int");
  return std::get<std::int64_t>(v_);
}

double Value::as_float() const {
  if (kind_ == ValueKind::Int || kind_ == ValueKind::Bool) return static_cast<double>(as_int());
  if (kind_ != ValueKind::Float) wrong_kind(kind_, "a float");
  return std::get<double>(v_);
}

const std::string& Value::as_str() const {
  if (kind_ != ValueKind::Str) wrong_kind(kind_, "a str");
  return *std::get<std::shared_ptr<const std::string>>(v_);
}

const std::string& Value::as_bytes() const {
  if (kind_ != ValueKind::Bytes) wrong_kind(kind_, "bytes");
  return *std::get<std::shared_ptr<const std::string>>(v_);
}

const std::string& Value::as_big_int() const {
  if (kind_ != ValueKind::BigInt) wrong_kind(kind_, "a big int");
  return *std::get<std::shared_ptr<const std::string>>(v_);
}

SequenceData& Value::as_sequence() const { return *sequence_ptr(); }
DictData& Value::as_dict() const { return *dict_ptr(); }
TensorData& Value::as_tensor() const { return *tensor_ptr(); }
PlaceholderData& Value::as_placeholder() const { return *placeholder_ptr(); }

const std::shared_ptr<SequenceData>& Value::sequence_ptr() const {
  if (!is_sequence()) wrong_kind(kind_, "a list, tuple or set");
  return std::get<std::shared_ptr<SequenceData>>(v_);
}

const std::shared_ptr<DictData>& Value::dict_ptr() const {
  if (kind_ != ValueKind::Dict) wrong_kind(kind_, "a dict");
  return std::get<std::shared_ptr<DictData>>(v_);
}

const std::shared_ptr<TensorData>& Value::tensor_ptr() const {
  if (kind_ != ValueKind::Tensor) wrong_kind(kind_, "a tensor");
  return std::get<std::shared_ptr<TensorData>>(v_);
}

const StorageRef& Value::as_storage() const {
  if (kind_ != ValueKind::Storage) wrong_kind(kind_, "a storage");
  return std::get<StorageRef>(v_);
}

const std::shared_ptr<PlaceholderData>& Value::placeholder_ptr() const {
  if (kind_ != ValueKind::Placeholder) wrong_kind(kind_, "an object");
  return std::get<std::shared_ptr<PlaceholderData>>(v_);
}

const void* Value::identity() const {
  switch (kind_) {
    case ValueKind::List:
    case ValueKind::Tuple:
    case ValueKind::Set:
      return std::get<std::shared_ptr<SequenceData>>(v_).get();
    case ValueKind::Dict:
      return std::get<std::shared_ptr<DictData>>(v_).get();
    case ValueKind::Tensor:
      return std::get<std::shared_ptr<TensorData>>(v_).get();
    case ValueKind::Storage:
      return std::get<StorageRef>(v_).data.get();
    case ValueKind::Placeholder:
      return std::get<std::shared_ptr<PlaceholderData>>(v_).get();
    default:
      return nullptr;
  }
}

void DictData::set(Value key, Value value) {
  auto k = hash_key(key, 0);
  auto [it, inserted] = index_.try_emplace(std::move(k), items.size());
  if (inserted) {
    items.emplace_back(std::move(key), std::move(value));
  } else {
    items[it->second].second = std::move(value);  // Python keeps the first key object and its position
  }
}

const Value* DictData::find(const Value& key) const {
  auto it = index_.find(hash_key(key, 0));
  return it == index_.end() ? nullptr : &items[it->second].second;
}

const Value* DictData::find(std::string_view str_key) const {
  auto it = index_.find(fmt::format("s{}", str_key));
  return it == index_.end() ? nullptr : &items[it->second].second;
}

std::string short_repr(const Value& value, std::size_t max_chars) {
  std::string out;
  repr_into(value, out, max_chars);
  if (out.size() > max_chars) {
    out.resize(max_chars);
    out += "...";
  }
  return out;
}

}  // namespace pt2onnx::checkpoint
