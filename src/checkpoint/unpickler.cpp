#include "checkpoint/unpickler.h"

#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "checkpoint/object_graph.h"
#include "checkpoint/pickle_callables.h"
#include "checkpoint/pickle_opcodes.h"
#include "checkpoint/pickle_text.h"
#include "common/byte_reader.h"
#include "pt2onnx/error.h"

namespace pt2onnx::checkpoint {
namespace {

class Unpickler {
 public:
  Unpickler(std::span<const std::byte> data, const PersistentLoad& persistent_load, const UnpickleLimits& limits,
            std::size_t base_offset)
      : in_(data, base_offset), persistent_load_(persistent_load), limits_(limits) {}

  // On failure everything made so far is released; see object_graph.h.
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
        if (step(static_cast<PickleOp>(code), root)) break;
      } catch (Error& e) {
        e.with_context(fmt::format("offset {} ({})", at, pickle_op_name(code)));
        throw;
      }
    }
    // Only an acyclic, shallow enough tree is handed out (object_graph.h).
    auto reachable = check_object_graph(root, limits_.max_depth);
    tear_down(&reachable);
    UnpickleResult result;
    result.root = std::move(root);
    result.consumed = in_.position();
    result.tensors = std::move(ctx_.tensors());
    return result;
  }

 private:
  // Returns true at STOP.
  bool step(PickleOp op, Value& root) {
    switch (op) {
      case PickleOp::Proto: {
        const int version = in_.u8();
        if (version > kHighestPickleProtocol) {
          throw_error(ErrorKind::Unsupported,
                      fmt::format("pickle protocol {} is newer than {}", version, kHighestPickleProtocol));
        }
        return false;
      }
      case PickleOp::Frame: {
        // Only a read-ahead hint; the length must still fit in what is left.
        const auto n = in_.u64_le();
        if (n > in_.remaining()) throw_error(ErrorKind::BadInput, fmt::format("frame of {} bytes is truncated", n));
        return false;
      }
      case PickleOp::Stop:
        root = pop();
        return true;

      // Stack and memo.
      case PickleOp::Mark:
        marks_.push_back(stack_.size());
        return false;
      case PickleOp::Pop:
        if (stack_.size() > frame_start()) {
          stack_.pop_back();
        } else {
          (void)pop_mark();  // as Python does when the current frame is empty
        }
        return false;
      case PickleOp::PopMark:
        (void)pop_mark();
        return false;
      case PickleOp::Dup:
        push(top());
        return false;
      case PickleOp::Get:
        memo_get(parse_memo_index(in_.line()));
        return false;
      case PickleOp::BinGet:
        memo_get(in_.u8());
        return false;
      case PickleOp::LongBinGet:
        memo_get(in_.u32_le());
        return false;
      case PickleOp::Put:
        memo_[parse_memo_index(in_.line())] = top();
        return false;
      case PickleOp::BinPut:
        memo_[in_.u8()] = top();
        return false;
      case PickleOp::LongBinPut:
        memo_[in_.u32_le()] = top();
        return false;
      case PickleOp::Memoize:
        memo_[memo_.size()] = top();
        return false;

      // Scalars.
      case PickleOp::None:
        push(Value());
        return false;
      case PickleOp::NewTrue:
        push(Value::from_bool(true));
        return false;
      case PickleOp::NewFalse:
        push(Value::from_bool(false));
        return false;
      case PickleOp::Int:
      case PickleOp::Long:
        push(parse_decimal_int(in_.line()));
        return false;
      case PickleOp::BinInt:
        push(Value::from_int(in_.i32_le()));
        return false;
      case PickleOp::BinInt1:
        push(Value::from_int(in_.u8()));
        return false;
      case PickleOp::BinInt2:
        push(Value::from_int(in_.u16_le()));
        return false;
      case PickleOp::Long1:
        push(read_long(in_.u8()));
        return false;
      case PickleOp::Long4:
        push(read_long(checked_length(in_.i32_le())));
        return false;
      case PickleOp::Float:
        push(Value::from_float(parse_float_literal(in_.line())));
        return false;
      case PickleOp::BinFloat:
        push(Value::from_float(in_.f64_be()));
        return false;

      // Strings and bytes.
      case PickleOp::String:
        push(str_or_bytes(parse_quoted_string(in_.line())));
        return false;
      case PickleOp::BinString:
        push(str_or_bytes(std::string(in_.chars(checked_length(in_.i32_le())))));
        return false;
      case PickleOp::ShortBinString:
        push(str_or_bytes(std::string(in_.chars(in_.u8()))));
        return false;
      case PickleOp::Unicode:
        push(Value::str(decode_raw_unicode_escape(in_.line())));
        return false;
      case PickleOp::BinUnicode:
        push(Value::str(std::string(in_.chars(in_.u32_le()))));
        return false;
      case PickleOp::ShortBinUnicode:
        push(Value::str(std::string(in_.chars(in_.u8()))));
        return false;
      case PickleOp::BinUnicode8:
        push(Value::str(std::string(in_.chars(length64()))));
        return false;
      case PickleOp::BinBytes:
        push(Value::bytes(std::string(in_.chars(in_.u32_le()))));
        return false;
      case PickleOp::ShortBinBytes:
        push(Value::bytes(std::string(in_.chars(in_.u8()))));
        return false;
      case PickleOp::BinBytes8:
      case PickleOp::ByteArray8:
        push(Value::bytes(std::string(in_.chars(length64()))));
        return false;
      case PickleOp::NextBuffer:
        throw_error(ErrorKind::Unsupported, "out-of-band pickle buffers are not supported");
      case PickleOp::ReadonlyBuffer:
        (void)top();
        return false;

      // Containers.
      case PickleOp::EmptyList:
        push(keep(Value::list()));
        return false;
      case PickleOp::EmptyTuple:
        push(keep(Value::tuple()));
        return false;
      case PickleOp::EmptyDict:
        push(keep(Value::dict()));
        return false;
      case PickleOp::EmptySet:
        push(keep(Value::set()));
        return false;
      case PickleOp::List:
        push(keep(Value::list(pop_mark())));
        return false;
      case PickleOp::Tuple:
        push(keep(Value::tuple(pop_mark())));
        return false;
      case PickleOp::Tuple1:
      case PickleOp::Tuple2:
      case PickleOp::Tuple3: {
        const std::size_t n = static_cast<std::size_t>(op) - static_cast<std::size_t>(PickleOp::Tuple1) + 1;
        std::vector<Value> items(n);
        for (std::size_t i = n; i-- > 0;) items[i] = pop();
        push(keep(Value::tuple(std::move(items))));
        return false;
      }
      case PickleOp::FrozenSet:
        push(keep(Value::set(pop_mark())));
        return false;
      case PickleOp::Dict: {
        auto items = pop_mark();
        Value d = keep(Value::dict());
        set_items(d, items);
        push(std::move(d));
        return false;
      }
      case PickleOp::Append: {
        Value v = pop();
        append_items(top(), {std::move(v)});
        return false;
      }
      case PickleOp::Appends: {
        auto items = pop_mark();
        append_items(top(), std::move(items));
        return false;
      }
      case PickleOp::SetItem: {
        Value value = pop();
        Value key = pop();
        std::vector<Value> items{std::move(key), std::move(value)};
        set_items(top(), items);
        return false;
      }
      case PickleOp::SetItems: {
        auto items = pop_mark();
        set_items(top(), items);
        return false;
      }
      case PickleOp::AddItems: {
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
      case PickleOp::Global: {
        const auto module = std::string(in_.line());
        const auto name = std::string(in_.line());
        push(keep(make_global(module, name)));
        return false;
      }
      case PickleOp::StackGlobal: {
        Value name = pop();
        Value module = pop();
        if (!name.is(ValueKind::Str) || !module.is(ValueKind::Str)) {
          throw_error(ErrorKind::BadInput, "STACK_GLOBAL needs two strings");
        }
        push(keep(make_global(module.as_str(), name.as_str())));
        return false;
      }
      case PickleOp::Reduce: {
        Value args = pop();
        Value callable = pop();
        push(call(callable, std::move(args)));
        return false;
      }
      case PickleOp::NewObj: {
        Value args = pop();
        Value cls = pop();
        push(call(cls, std::move(args)));
        return false;
      }
      case PickleOp::NewObjEx: {
        Value kwargs = pop();
        Value args = pop();
        Value cls = pop();
        std::vector<Value> all = sequence_items(args, "NEWOBJ_EX arguments");
        if (kwargs.is(ValueKind::Dict) && !kwargs.as_dict().items.empty()) all.push_back(kwargs);
        push(call_global(cls, std::move(all), ctx_));
        return false;
      }
      case PickleOp::Inst: {
        const auto module = std::string(in_.line());
        const auto name = std::string(in_.line());
        auto args = pop_mark();
        push(call_global(keep(make_global(module, name)), std::move(args), ctx_));
        return false;
      }
      case PickleOp::Obj: {
        auto items = pop_mark();
        if (items.empty()) throw_error(ErrorKind::BadInput, "OBJ without a class");
        Value cls = items.front();
        push(call_global(cls, {items.begin() + 1, items.end()}, ctx_));
        return false;
      }
      case PickleOp::Build: {
        Value state = pop();
        Value& target = top();
        // Only placeholders keep state; for interpreted objects (an OrderedDict's
        // attributes, a tensor's Python state) it carries nothing pt2onnx uses.
        if (target.is(ValueKind::Placeholder)) target.as_placeholder().state = std::move(state);
        return false;
      }
      case PickleOp::PersId: {
        const auto pid = std::string(in_.line());
        push(persistent(Value::str(pid)));
        return false;
      }
      case PickleOp::BinPersId:
        push(persistent(pop()));
        return false;
      case PickleOp::Ext1:
      case PickleOp::Ext2:
      case PickleOp::Ext4: {
        const std::uint32_t code = op == PickleOp::Ext1 ? in_.u8() : op == PickleOp::Ext2 ? in_.u16_le() : in_.u32_le();
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

  void tear_down(const std::unordered_set<const void*>* keep) {
    release_objects(ctx_.kept(), keep);
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

UnpickleResult unpickle(std::span<const std::byte> data, const PersistentLoad& persistent_load,
                        const UnpickleLimits& limits, std::size_t base_offset) {
  Unpickler u(data, persistent_load, limits, base_offset);
  return u.run();
}

}  // namespace pt2onnx::checkpoint
