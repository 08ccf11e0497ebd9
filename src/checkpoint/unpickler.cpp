#include "checkpoint/unpickler.h"

#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "checkpoint/pickle_callables.h"
#include "checkpoint/pickle_text.h"
#include "common/byte_reader.h"
#include "common/error.h"

namespace pt2onnx::checkpoint {
namespace {

// The opcodes of pickle protocols 0 to 5 (Python's Lib/pickle.py and pickletools.py).
enum class Op : std::uint8_t {
  Mark = '(',
  Stop = '.',
  Pop = '0',
  PopMark = '1',
  Dup = '2',
  Float = 'F',
  Int = 'I',
  BinInt = 'J',
  BinInt1 = 'K',
  Long = 'L',
  BinInt2 = 'M',
  None = 'N',
  PersId = 'P',
  BinPersId = 'Q',
  Reduce = 'R',
  String = 'S',
  BinString = 'T',
  ShortBinString = 'U',
  Unicode = 'V',
  BinUnicode = 'X',
  Append = 'a',
  Build = 'b',
  Global = 'c',
  Dict = 'd',
  EmptyDict = '}',
  Appends = 'e',
  Get = 'g',
  BinGet = 'h',
  Inst = 'i',
  LongBinGet = 'j',
  List = 'l',
  EmptyList = ']',
  Obj = 'o',
  Put = 'p',
  BinPut = 'q',
  LongBinPut = 'r',
  SetItem = 's',
  Tuple = 't',
  EmptyTuple = ')',
  SetItems = 'u',
  BinFloat = 'G',
  BinBytes = 'B',
  ShortBinBytes = 'C',
  Proto = 0x80,
  NewObj = 0x81,
  Ext1 = 0x82,
  Ext2 = 0x83,
  Ext4 = 0x84,
  Tuple1 = 0x85,
  Tuple2 = 0x86,
  Tuple3 = 0x87,
  NewTrue = 0x88,
  NewFalse = 0x89,
  Long1 = 0x8a,
  Long4 = 0x8b,
  ShortBinUnicode = 0x8c,
  BinUnicode8 = 0x8d,
  BinBytes8 = 0x8e,
  EmptySet = 0x8f,
  AddItems = 0x90,
  FrozenSet = 0x91,
  NewObjEx = 0x92,
  StackGlobal = 0x93,
  Memoize = 0x94,
  Frame = 0x95,
  ByteArray8 = 0x96,
  NextBuffer = 0x97,
  ReadonlyBuffer = 0x98,
};

constexpr int kHighestProtocol = 5;

std::string_view op_name(std::uint8_t code) {
  switch (static_cast<Op>(code)) {
    case Op::Mark:
      return "MARK";
    case Op::Stop:
      return "STOP";
    case Op::Pop:
      return "POP";
    case Op::PopMark:
      return "POP_MARK";
    case Op::Dup:
      return "DUP";
    case Op::Float:
      return "FLOAT";
    case Op::Int:
      return "INT";
    case Op::BinInt:
      return "BININT";
    case Op::BinInt1:
      return "BININT1";
    case Op::Long:
      return "LONG";
    case Op::BinInt2:
      return "BININT2";
    case Op::None:
      return "NONE";
    case Op::PersId:
      return "PERSID";
    case Op::BinPersId:
      return "BINPERSID";
    case Op::Reduce:
      return "REDUCE";
    case Op::String:
      return "STRING";
    case Op::BinString:
      return "BINSTRING";
    case Op::ShortBinString:
      return "SHORT_BINSTRING";
    case Op::Unicode:
      return "UNICODE";
    case Op::BinUnicode:
      return "BINUNICODE";
    case Op::Append:
      return "APPEND";
    case Op::Build:
      return "BUILD";
    case Op::Global:
      return "GLOBAL";
    case Op::Dict:
      return "DICT";
    case Op::EmptyDict:
      return "EMPTY_DICT";
    case Op::Appends:
      return "APPENDS";
    case Op::Get:
      return "GET";
    case Op::BinGet:
      return "BINGET";
    case Op::Inst:
      return "INST";
    case Op::LongBinGet:
      return "LONG_BINGET";
    case Op::List:
      return "LIST";
    case Op::EmptyList:
      return "EMPTY_LIST";
    case Op::Obj:
      return "OBJ";
    case Op::Put:
      return "PUT";
    case Op::BinPut:
      return "BINPUT";
    case Op::LongBinPut:
      return "LONG_BINPUT";
    case Op::SetItem:
      return "SETITEM";
    case Op::Tuple:
      return "TUPLE";
    case Op::EmptyTuple:
      return "EMPTY_TUPLE";
    case Op::SetItems:
      return "SETITEMS";
    case Op::BinFloat:
      return "BINFLOAT";
    case Op::BinBytes:
      return "BINBYTES";
    case Op::ShortBinBytes:
      return "SHORT_BINBYTES";
    case Op::Proto:
      return "PROTO";
    case Op::NewObj:
      return "NEWOBJ";
    case Op::Ext1:
      return "EXT1";
    case Op::Ext2:
      return "EXT2";
    case Op::Ext4:
      return "EXT4";
    case Op::Tuple1:
      return "TUPLE1";
    case Op::Tuple2:
      return "TUPLE2";
    case Op::Tuple3:
      return "TUPLE3";
    case Op::NewTrue:
      return "NEWTRUE";
    case Op::NewFalse:
      return "NEWFALSE";
    case Op::Long1:
      return "LONG1";
    case Op::Long4:
      return "LONG4";
    case Op::ShortBinUnicode:
      return "SHORT_BINUNICODE";
    case Op::BinUnicode8:
      return "BINUNICODE8";
    case Op::BinBytes8:
      return "BINBYTES8";
    case Op::EmptySet:
      return "EMPTY_SET";
    case Op::AddItems:
      return "ADDITEMS";
    case Op::FrozenSet:
      return "FROZENSET";
    case Op::NewObjEx:
      return "NEWOBJ_EX";
    case Op::StackGlobal:
      return "STACK_GLOBAL";
    case Op::Memoize:
      return "MEMOIZE";
    case Op::Frame:
      return "FRAME";
    case Op::ByteArray8:
      return "BYTEARRAY8";
    case Op::NextBuffer:
      return "NEXT_BUFFER";
    case Op::ReadonlyBuffer:
      return "READONLY_BUFFER";
  }
  return "unknown opcode";
}

// The direct children of a shared object, for the tree checks below.
template <typename Fn>
void for_each_child(const Value& v, Fn&& fn) {
  switch (v.kind()) {
    case ValueKind::List:
    case ValueKind::Tuple:
    case ValueKind::Set:
      for (const auto& item : v.as_sequence().items) fn(item);
      return;
    case ValueKind::Dict:
      for (const auto& [key, value] : v.as_dict().items) {
        fn(key);
        fn(value);
      }
      return;
    case ValueKind::Placeholder: {
      const auto& p = v.as_placeholder();
      for (const auto& a : p.args) fn(a);
      if (p.state) fn(*p.state);
      for (const auto& item : p.list_items) fn(item);
      for (const auto& [key, value] : p.dict_items) {
        fn(key);
        fn(value);
      }
      return;
    }
    default:
      return;
  }
}

// Moves the children out of a container, so that destroying it cannot recurse.
void empty_into(const Value& v, std::vector<Value>& graveyard) {
  switch (v.kind()) {
    case ValueKind::List:
    case ValueKind::Tuple:
    case ValueKind::Set: {
      auto& items = v.as_sequence().items;
      for (auto& item : items) graveyard.push_back(std::move(item));
      items.clear();
      return;
    }
    case ValueKind::Dict: {
      auto& d = v.as_dict();
      for (auto& [key, value] : d.items) {
        graveyard.push_back(std::move(key));
        graveyard.push_back(std::move(value));
      }
      d.clear();
      return;
    }
    case ValueKind::Placeholder: {
      auto& p = v.as_placeholder();
      for (auto& a : p.args) graveyard.push_back(std::move(a));
      if (p.state) graveyard.push_back(std::move(*p.state));
      for (auto& item : p.list_items) graveyard.push_back(std::move(item));
      for (auto& [key, value] : p.dict_items) {
        graveyard.push_back(std::move(key));
        graveyard.push_back(std::move(value));
      }
      p.args.clear();
      p.state.reset();
      p.list_items.clear();
      p.dict_items.clear();
      return;
    }
    default:
      return;
  }
}

class Unpickler {
 public:
  Unpickler(std::span<const std::byte> data, const PersistentLoad& persistent_load, const UnpickleLimits& limits,
            std::size_t base_offset)
      : in_(data, base_offset), persistent_load_(persistent_load), limits_(limits) {}

  ~Unpickler() { tear_down(nullptr); }
  Unpickler(const Unpickler&) = delete;
  Unpickler& operator=(const Unpickler&) = delete;

  UnpickleResult run() {
    Value root;
    for (;;) {
      const std::size_t at = in_.offset();
      std::uint8_t code = 0;
      try {
        if (++opcodes_ > limits_.max_opcodes) {
          throw_error(ErrorKind::BadInput, fmt::format("more than {} pickle opcodes", limits_.max_opcodes));
        }
        code = in_.u8();
        if (step(static_cast<Op>(code), root)) break;
      } catch (Error& e) {
        e.with_context(fmt::format("offset {} ({})", at, op_name(code)));
        throw;
      }
    }
    auto reachable = check_tree(root);
    tear_down(&reachable);
    UnpickleResult result;
    result.root = std::move(root);
    result.consumed = in_.position();
    result.tensors = std::move(ctx_.tensors());
    return result;
  }

 private:
  // Returns true at STOP.
  bool step(Op op, Value& root) {
    switch (op) {
      case Op::Proto: {
        const int version = in_.u8();
        if (version > kHighestProtocol) {
          throw_error(ErrorKind::Unsupported,
                      fmt::format("pickle protocol {} is newer than {}", version, kHighestProtocol));
        }
        return false;
      }
      case Op::Frame: {
        // Only a read-ahead hint; the length must still fit in what is left.
        const auto n = in_.u64_le();
        if (n > in_.remaining()) throw_error(ErrorKind::BadInput, fmt::format("frame of {} bytes is truncated", n));
        return false;
      }
      case Op::Stop:
        root = pop();
        return true;

      // Stack and memo.
      case Op::Mark:
        marks_.push_back(stack_.size());
        return false;
      case Op::Pop:
        if (stack_.size() > frame_start()) {
          stack_.pop_back();
        } else {
          (void)pop_mark();  // as Python does when the current frame is empty
        }
        return false;
      case Op::PopMark:
        (void)pop_mark();
        return false;
      case Op::Dup:
        push(top());
        return false;
      case Op::Get:
        memo_get(parse_memo_index(in_.line()));
        return false;
      case Op::BinGet:
        memo_get(in_.u8());
        return false;
      case Op::LongBinGet:
        memo_get(in_.u32_le());
        return false;
      case Op::Put:
        memo_[parse_memo_index(in_.line())] = top();
        return false;
      case Op::BinPut:
        memo_[in_.u8()] = top();
        return false;
      case Op::LongBinPut:
        memo_[in_.u32_le()] = top();
        return false;
      case Op::Memoize:
        memo_[memo_.size()] = top();
        return false;

      // Scalars.
      case Op::None:
        push(Value());
        return false;
      case Op::NewTrue:
        push(Value::from_bool(true));
        return false;
      case Op::NewFalse:
        push(Value::from_bool(false));
        return false;
      case Op::Int:
      case Op::Long:
        push(parse_decimal_int(in_.line()));
        return false;
      case Op::BinInt:
        push(Value::from_int(in_.i32_le()));
        return false;
      case Op::BinInt1:
        push(Value::from_int(in_.u8()));
        return false;
      case Op::BinInt2:
        push(Value::from_int(in_.u16_le()));
        return false;
      case Op::Long1:
        push(read_long(in_.u8()));
        return false;
      case Op::Long4:
        push(read_long(checked_length(in_.i32_le())));
        return false;
      case Op::Float:
        push(Value::from_float(parse_float_literal(in_.line())));
        return false;
      case Op::BinFloat:
        push(Value::from_float(in_.f64_be()));
        return false;

      // Strings and bytes.
      case Op::String:
        push(str_or_bytes(parse_quoted_string(in_.line())));
        return false;
      case Op::BinString:
        push(str_or_bytes(std::string(in_.chars(checked_length(in_.i32_le())))));
        return false;
      case Op::ShortBinString:
        push(str_or_bytes(std::string(in_.chars(in_.u8()))));
        return false;
      case Op::Unicode:
        push(Value::str(decode_raw_unicode_escape(in_.line())));
        return false;
      case Op::BinUnicode:
        push(Value::str(std::string(in_.chars(in_.u32_le()))));
        return false;
      case Op::ShortBinUnicode:
        push(Value::str(std::string(in_.chars(in_.u8()))));
        return false;
      case Op::BinUnicode8:
        push(Value::str(std::string(in_.chars(length64()))));
        return false;
      case Op::BinBytes:
        push(Value::bytes(std::string(in_.chars(in_.u32_le()))));
        return false;
      case Op::ShortBinBytes:
        push(Value::bytes(std::string(in_.chars(in_.u8()))));
        return false;
      case Op::BinBytes8:
      case Op::ByteArray8:
        push(Value::bytes(std::string(in_.chars(length64()))));
        return false;
      case Op::NextBuffer:
        throw_error(ErrorKind::Unsupported, "out-of-band pickle buffers are not supported");
      case Op::ReadonlyBuffer:
        (void)top();
        return false;

      // Containers.
      case Op::EmptyList:
        push(keep(Value::list()));
        return false;
      case Op::EmptyTuple:
        push(keep(Value::tuple()));
        return false;
      case Op::EmptyDict:
        push(keep(Value::dict()));
        return false;
      case Op::EmptySet:
        push(keep(Value::set()));
        return false;
      case Op::List:
        push(keep(Value::list(pop_mark())));
        return false;
      case Op::Tuple:
        push(keep(Value::tuple(pop_mark())));
        return false;
      case Op::Tuple1:
      case Op::Tuple2:
      case Op::Tuple3: {
        const std::size_t n = static_cast<std::size_t>(op) - static_cast<std::size_t>(Op::Tuple1) + 1;
        std::vector<Value> items(n);
        for (std::size_t i = n; i-- > 0;) items[i] = pop();
        push(keep(Value::tuple(std::move(items))));
        return false;
      }
      case Op::FrozenSet:
        push(keep(Value::set(pop_mark())));
        return false;
      case Op::Dict: {
        auto items = pop_mark();
        Value d = keep(Value::dict());
        set_items(d, items);
        push(std::move(d));
        return false;
      }
      case Op::Append: {
        Value v = pop();
        append_items(top(), {std::move(v)});
        return false;
      }
      case Op::Appends: {
        auto items = pop_mark();
        append_items(top(), std::move(items));
        return false;
      }
      case Op::SetItem: {
        Value value = pop();
        Value key = pop();
        std::vector<Value> items{std::move(key), std::move(value)};
        set_items(top(), items);
        return false;
      }
      case Op::SetItems: {
        auto items = pop_mark();
        set_items(top(), items);
        return false;
      }
      case Op::AddItems: {
        auto items = pop_mark();
        Value& target = top();
        if (!target.is(ValueKind::Set)) {
          throw_error(ErrorKind::BadInput, fmt::format("ADDITEMS to {}", a_value_kind(target.kind())));
        }
        auto& dst = target.as_sequence().items;
        for (auto& item : items) dst.push_back(std::move(item));
        return false;
      }

      // Globals and calls: see pickle_callables.h; nothing is executed.
      case Op::Global: {
        const auto module = std::string(in_.line());
        const auto name = std::string(in_.line());
        push(keep(make_global(module, name)));
        return false;
      }
      case Op::StackGlobal: {
        Value name = pop();
        Value module = pop();
        if (!name.is(ValueKind::Str) || !module.is(ValueKind::Str)) {
          throw_error(ErrorKind::BadInput, "STACK_GLOBAL needs two strings");
        }
        push(keep(make_global(module.as_str(), name.as_str())));
        return false;
      }
      case Op::Reduce: {
        Value args = pop();
        Value callable = pop();
        push(call(callable, std::move(args)));
        return false;
      }
      case Op::NewObj: {
        Value args = pop();
        Value cls = pop();
        push(call(cls, std::move(args)));
        return false;
      }
      case Op::NewObjEx: {
        Value kwargs = pop();
        Value args = pop();
        Value cls = pop();
        std::vector<Value> all = sequence_items(args, "NEWOBJ_EX arguments");
        if (kwargs.is(ValueKind::Dict) && !kwargs.as_dict().items.empty()) all.push_back(kwargs);
        push(call_global(cls, std::move(all), ctx_));
        return false;
      }
      case Op::Inst: {
        const auto module = std::string(in_.line());
        const auto name = std::string(in_.line());
        auto args = pop_mark();
        push(call_global(keep(make_global(module, name)), std::move(args), ctx_));
        return false;
      }
      case Op::Obj: {
        auto items = pop_mark();
        if (items.empty()) throw_error(ErrorKind::BadInput, "OBJ without a class");
        Value cls = items.front();
        push(call_global(cls, {items.begin() + 1, items.end()}, ctx_));
        return false;
      }
      case Op::Build: {
        Value state = pop();
        Value& target = top();
        // Only placeholders keep state; for interpreted objects (an OrderedDict's
        // attributes, a tensor's Python state) it carries nothing pt2onnx uses.
        if (target.is(ValueKind::Placeholder)) target.as_placeholder().state = std::move(state);
        return false;
      }
      case Op::PersId: {
        const auto pid = std::string(in_.line());
        push(persistent(Value::str(pid)));
        return false;
      }
      case Op::BinPersId:
        push(persistent(pop()));
        return false;
      case Op::Ext1:
      case Op::Ext2:
      case Op::Ext4: {
        const std::uint32_t code = op == Op::Ext1 ? in_.u8() : op == Op::Ext2 ? in_.u16_le() : in_.u32_le();
        throw_error(ErrorKind::Unsupported,
                    fmt::format("the pickle uses copyreg extension code {}, which pt2onnx does not resolve", code));
      }
    }
    throw_error(ErrorKind::BadInput, fmt::format("unknown opcode 0x{:02x}", static_cast<unsigned>(op)));
  }

  std::size_t frame_start() const { return marks_.empty() ? 0 : marks_.back(); }

  void push(Value v) { stack_.push_back(std::move(v)); }

  Value pop() {
    if (stack_.size() <= frame_start()) throw_error(ErrorKind::BadInput, "pickle stack underflow");
    Value v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }

  Value& top() {
    if (stack_.size() <= frame_start()) throw_error(ErrorKind::BadInput, "pickle stack underflow");
    return stack_.back();
  }

  std::vector<Value> pop_mark() {
    if (marks_.empty()) throw_error(ErrorKind::BadInput, "no MARK on the pickle stack");
    const std::size_t start = marks_.back();
    marks_.pop_back();
    std::vector<Value> items(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(start)),
                             std::make_move_iterator(stack_.end()));
    stack_.resize(start);
    return items;
  }

  Value keep(Value v) { return ctx_.keep(std::move(v)); }

  void memo_get(std::uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) throw_error(ErrorKind::BadInput, fmt::format("memo key {} was never stored", index));
    push(it->second);
  }

  static std::uint64_t parse_memo_index(std::string_view text) {
    Value v = parse_decimal_int(text);
    if (!v.is(ValueKind::Int) || v.as_int() < 0) {
      throw_error(ErrorKind::BadInput, fmt::format("bad memo key '{}'", text.substr(0, 20)));
    }
    return static_cast<std::uint64_t>(v.as_int());
  }

  static std::size_t checked_length(std::int32_t n) {
    if (n < 0) throw_error(ErrorKind::BadInput, fmt::format("negative length {}", n));
    return static_cast<std::size_t>(n);
  }

  std::size_t length64() {
    const std::uint64_t n = in_.u64_le();
    if (n > in_.remaining()) {
      throw_error(ErrorKind::BadInput, fmt::format("truncated: length {} at offset {} but only {} bytes left", n,
                                                   in_.offset() - 8, in_.remaining()));
    }
    return static_cast<std::size_t>(n);
  }

  Value read_long(std::size_t n) {
    if (n > limits_.max_long_bytes) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("integer of {} bytes is longer than the {} allowed", n, limits_.max_long_bytes));
    }
    return decode_long(in_.bytes(n));
  }

  // torch.load decodes Python 2 strings as UTF-8; what is not UTF-8 stays bytes.
  static Value str_or_bytes(std::string s) {
    if (is_valid_utf8(s)) return Value::str(std::move(s));
    return Value::bytes(std::move(s));
  }

  static std::vector<Value> sequence_items(const Value& v, std::string_view what) {
    if (!v.is(ValueKind::Tuple) && !v.is(ValueKind::List)) {
      throw_error(ErrorKind::BadInput, fmt::format("{} must be a tuple, found {}", what, a_value_kind(v.kind())));
    }
    return v.as_sequence().items;
  }

  Value call(const Value& callable, const Value& args) {
    return call_global(callable, sequence_items(args, "call arguments"), ctx_);
  }

  Value persistent(const Value& pid) {
    if (!persistent_load_) throw_error(ErrorKind::BadInput, "persistent id in a pickle that should have none");
    return keep(persistent_load_(pid));
  }

  void append_items(Value& target, std::vector<Value> items) {
    if (target.is(ValueKind::List)) {
      auto& dst = target.as_sequence().items;
      for (auto& item : items) dst.push_back(std::move(item));
    } else if (target.is(ValueKind::Placeholder)) {
      auto& dst = target.as_placeholder().list_items;
      for (auto& item : items) dst.push_back(std::move(item));
    } else {
      throw_error(ErrorKind::BadInput, fmt::format("APPEND to {}", a_value_kind(target.kind())));
    }
  }

  void set_items(Value& target, std::vector<Value>& items) {
    if (items.size() % 2 != 0) throw_error(ErrorKind::BadInput, "odd number of items for a dict");
    if (target.is(ValueKind::Dict)) {
      auto& d = target.as_dict();
      for (std::size_t i = 0; i < items.size(); i += 2) d.set(std::move(items[i]), std::move(items[i + 1]));
    } else if (target.is(ValueKind::Placeholder)) {
      auto& dst = target.as_placeholder().dict_items;
      for (std::size_t i = 0; i < items.size(); i += 2) dst.emplace_back(std::move(items[i]), std::move(items[i + 1]));
    } else {
      throw_error(ErrorKind::BadInput, fmt::format("SETITEM on {}", a_value_kind(target.kind())));
    }
  }

  // The finished tree must be acyclic and at most max_depth deep, so that
  // every later walk over it (and its destruction) is bounded. Returns the
  // shared objects reachable from the root.
  std::unordered_set<const void*> check_tree(const Value& root) {
    std::unordered_map<const void*, std::size_t> height;  // finished objects
    std::unordered_set<const void*> on_path;
    std::function<std::size_t(const Value&, std::size_t)> visit = [&](const Value& v,
                                                                      std::size_t depth) -> std::size_t {
      const void* id = v.identity();
      if (id == nullptr) return 0;
      if (auto it = height.find(id); it != height.end()) {
        // Shared objects are walked once; a deeper second path must still fit.
        if (depth + it->second > limits_.max_depth) {
          throw_error(ErrorKind::BadInput,
                      fmt::format("objects are nested more than {} levels deep", limits_.max_depth));
        }
        return it->second;
      }
      if (on_path.count(id) != 0) {
        throw_error(ErrorKind::BadInput, "the pickled object contains itself (a reference cycle)");
      }
      if (depth > limits_.max_depth) {
        throw_error(ErrorKind::BadInput, fmt::format("objects are nested more than {} levels deep", limits_.max_depth));
      }
      on_path.insert(id);
      std::size_t h = 0;
      for_each_child(v, [&](const Value& child) { h = std::max(h, visit(child, depth + 1) + 1); });
      on_path.erase(id);
      height.emplace(id, h);
      return h;
    };
    visit(root, 0);
    std::unordered_set<const void*> reachable;
    for (const auto& [id, h] : height) reachable.insert(id);
    return reachable;
  }

  // Empties every object created during unpickling that is not part of the
  // result (all of them when keep is null): popped or broken structures can be
  // cyclic or arbitrarily deep, and must not be destroyed recursively.
  void tear_down(const std::unordered_set<const void*>* keep) {
    std::vector<Value> graveyard;
    for (const auto& v : ctx_.kept()) {
      if (keep == nullptr || keep->count(v.identity()) == 0) empty_into(v, graveyard);
    }
    ctx_.kept().clear();
    stack_.clear();
    memo_.clear();
  }

  ByteReader in_;
  const PersistentLoad& persistent_load_;
  UnpickleLimits limits_;
  std::vector<Value> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, Value> memo_;
  CallContext ctx_;
  std::size_t opcodes_ = 0;
};

}  // namespace

Value decode_long(std::span<const std::byte> bytes) {
  const std::size_t n = bytes.size();
  if (n == 0) return Value::from_int(0);
  auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes[i]); };
  const bool negative = (byte(n - 1) & 0x80U) != 0;
  // Fits in int64 when every byte above the eighth only repeats the sign.
  bool fits = true;
  for (std::size_t i = 8; i < n; ++i) fits = fits && byte(i) == (negative ? 0xffU : 0x00U);
  if (n > 8) fits = fits && ((byte(7) & 0x80U) != 0) == negative;
  if (fits) {
    std::uint64_t u = negative ? ~std::uint64_t{0} : 0;
    for (std::size_t i = 0; i < std::min<std::size_t>(n, 8); ++i) {
      u &= ~(std::uint64_t{0xff} << (8 * i));
      u |= std::uint64_t{byte(i)} << (8 * i);
    }
    return Value::from_int(static_cast<std::int64_t>(u));
  }
  // Magnitude as 32-bit limbs (two's complement negated for negative numbers).
  std::vector<std::uint8_t> mag(n);
  for (std::size_t i = 0; i < n; ++i) mag[i] = byte(i);
  if (negative) {
    unsigned carry = 1;
    for (auto& b : mag) {
      const unsigned v = static_cast<unsigned>(static_cast<std::uint8_t>(~b)) + carry;
      b = static_cast<std::uint8_t>(v & 0xffU);
      carry = v >> 8;
    }
  }
  std::vector<std::uint32_t> limbs((n + 3) / 4, 0);
  for (std::size_t i = 0; i < n; ++i) limbs[i / 4] |= std::uint32_t{mag[i]} << (8 * (i % 4));
  std::vector<std::uint32_t> chunks;  // base 1e9, least significant first
  constexpr std::uint64_t kBase = 1000000000;
  while (!limbs.empty()) {
    std::uint64_t rem = 0;
    for (std::size_t i = limbs.size(); i-- > 0;) {
      const std::uint64_t cur = (rem << 32) | limbs[i];
      limbs[i] = static_cast<std::uint32_t>(cur / kBase);
      rem = cur % kBase;
    }
    chunks.push_back(static_cast<std::uint32_t>(rem));
    while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
  }
  std::string out = negative ? "-" : "";
  out += fmt::format("{}", chunks.back());
  for (std::size_t i = chunks.size() - 1; i-- > 0;) out += fmt::format("{:09}", chunks[i]);
  return Value::big_int(std::move(out));
}

UnpickleResult unpickle(std::span<const std::byte> data, const PersistentLoad& persistent_load,
                        const UnpickleLimits& limits, std::size_t base_offset) {
  Unpickler u(data, persistent_load, limits, base_offset);
  return u.run();
}

}  // namespace pt2onnx::checkpoint
