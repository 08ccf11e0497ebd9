#include "checkpoint/pickle_callables.h"

#include <array>
#include <functional>
#include <unordered_map>

#include <fmt/format.h>

#include "checkpoint/tensor_rebuild.h"
#include "pt2onnx/error.h"

namespace pt2onnx::checkpoint {
namespace {

constexpr std::string_view kNotRun = "not an allowlisted constructor, so it was recorded and not run";

// Modules whose functions act on the system (processes, files, imports,
// interpreters). A checkpoint that calls one is an attack, not a training
// artefact, so the whole load fails rather than leaving a placeholder.
constexpr std::array<std::string_view, 40> kRefusedModules{"os",         "posix",      "nt",
                                                           "subprocess", "sys",        "shutil",
                                                           "socket",     "importlib",  "runpy",
                                                           "pty",        "code",       "codeop",
                                                           "ctypes",     "pickle",     "_pickle",
                                                           "marshal",    "webbrowser", "multiprocessing",
                                                           "pdb",        "commands",   "popen2",
                                                           "platform",   "signal",     "tempfile",
                                                           "io",         "_io",        "pathlib",
                                                           "glob",       "threading",  "_thread",
                                                           "asyncio",    "ssl",        "http",
                                                           "urllib",     "ftplib",     "smtplib",
                                                           "telnetlib",  "zipimport",  "_posixsubprocess",
                                                           "cProfile"};

// Builtins that evaluate code, import modules or open files.
constexpr std::array<std::string_view, 12> kRefusedBuiltins{"eval",       "exec",     "compile", "open",
                                                            "__import__", "execfile", "input",   "breakpoint",
                                                            "exit",       "quit",     "help",    "reload"};

using Handler = std::function<Value(const std::string& name, std::vector<Value>& args, CallContext& ctx)>;

[[noreturn]] void bad_args(const std::string& name, const std::string& what) {
  throw_error(ErrorKind::BadInput, fmt::format("{}: {}", name, what));
}

const Value& arg(const std::string& name, std::vector<Value>& args, std::size_t i) {
  if (i >= args.size()) bad_args(name, fmt::format("expected at least {} arguments, got {}", i + 1, args.size()));
  return args[i];
}

Value placeholder(CallContext& ctx, std::string class_name, std::vector<Value> args, std::string reason) {
  auto p = std::make_shared<PlaceholderData>();
  p->class_name = std::move(class_name);
  p->called = true;
  p->args = std::move(args);
  p->reason = std::move(reason);
  return ctx.keep(Value::placeholder(std::move(p)));
}

Shape int_sequence(const std::string& name, const Value& v, std::string_view what) {
  if (!v.is(ValueKind::Tuple) && !v.is(ValueKind::List)) {
    bad_args(name, fmt::format("{} must be a tuple of ints, found {}", what, a_value_kind(v.kind())));
  }
  Shape out;
  for (const auto& item : v.as_sequence().items) {
    if (!item.is(ValueKind::Int)) {
      bad_args(name, fmt::format("{} must be a tuple of ints, found {} in it", what, a_value_kind(item.kind())));
    }
    out.push_back(item.as_int());
  }
  return out;
}

// torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
// and its older form _rebuild_tensor(storage, storage_offset, size, stride).
Value rebuild_tensor(const std::string& name, std::vector<Value>& args, CallContext& ctx) {
  const Value& storage = arg(name, args, 0);
  if (storage.is(ValueKind::Placeholder)) {
    // The storage is something pt2onnx does not read (a quantized or complex
    // storage, or an object from a callable that was not run): keep going, so
    // that only a state dict that needs this tensor fails.
    return placeholder(ctx, name, args,
                       fmt::format("its storage is {}, which pt2onnx does not read", short_repr(storage)));
  }
  if (!storage.is(ValueKind::Storage)) {
    bad_args(name, fmt::format("the first argument must be a storage, found {}", a_value_kind(storage.kind())));
  }
  const Value& offset = arg(name, args, 1);
  if (!offset.is(ValueKind::Int)) bad_args(name, "the storage offset must be an int");
  auto t = std::make_shared<TensorData>();
  t->pending = make_tensor_view(storage.as_storage(), offset.as_int(), int_sequence(name, arg(name, args, 2), "size"),
                                int_sequence(name, arg(name, args, 3), "stride"));
  if (args.size() > 4 && args[4].is(ValueKind::Bool)) t->requires_grad = args[4].as_bool();
  ctx.add_tensor(t);
  return ctx.keep(Value::tensor(std::move(t)));
}

// torch._utils._rebuild_parameter(data, requires_grad, backward_hooks) and
// _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state).
Value rebuild_parameter(const std::string& name, std::vector<Value>& args, CallContext&) {
  Value data = arg(name, args, 0);
  if (data.is(ValueKind::Placeholder)) return data;  // already says why it is not a tensor
  if (!data.is(ValueKind::Tensor))
    bad_args(name, fmt::format("data must be a tensor, found {}", a_value_kind(data.kind())));
  data.as_tensor().is_parameter = true;
  if (args.size() > 1 && args[1].is(ValueKind::Bool)) data.as_tensor().requires_grad = args[1].as_bool();
  return data;
}

// torch._tensor._rebuild_from_type_v2(func, new_type, args, state): how a
// Tensor or Parameter (or a subclass of them) is pickled when it has Python state.
Value rebuild_from_type(const std::string& name, std::vector<Value>& args, CallContext& ctx) {
  const Value& func = arg(name, args, 0);
  const Value& new_type = arg(name, args, 1);
  const Value& func_args = arg(name, args, 2);
  if (!func_args.is(ValueKind::Tuple) && !func_args.is(ValueKind::List)) bad_args(name, "args must be a tuple");
  Value result = call_global(func, func_args.as_sequence().items, ctx);
  const auto type_name = global_name(new_type);
  if (type_name == "torch.Tensor" || type_name == "torch.nn.parameter.Parameter" || type_name == "torch.nn.Parameter") {
    return result;
  }
  return placeholder(ctx, type_name.empty() ? short_repr(new_type) : type_name, {result},
                     "a tensor subclass pt2onnx does not construct");
}

void add_pairs(const std::string& name, DictData& dict, const Value& source) {
  if (source.is(ValueKind::Dict)) {
    for (const auto& [k, v] : source.as_dict().items) dict.set(k, v);
    return;
  }
  if (!source.is_sequence()) bad_args(name, "expected a dict or a sequence of pairs");
  for (const auto& pair : source.as_sequence().items) {
    if (!pair.is_sequence() || pair.as_sequence().items.size() != 2) bad_args(name, "expected a sequence of pairs");
    dict.set(pair.as_sequence().items[0], pair.as_sequence().items[1]);
  }
}

Value make_dict(const std::string& name, std::vector<Value>& args, CallContext& ctx) {
  Value d = ctx.keep(Value::dict());
  if (!args.empty()) add_pairs(name, d.as_dict(), args[0]);
  return d;
}

Value make_set(const std::string& name, std::vector<Value>& args, CallContext& ctx) {
  std::vector<Value> items;
  if (!args.empty()) {
    if (args[0].is(ValueKind::Dict)) {
      for (const auto& kv : args[0].as_dict().items) items.push_back(kv.first);
    } else if (args[0].is_sequence()) {
      items = args[0].as_sequence().items;
    } else {
      bad_args(name, fmt::format("cannot make a set from {}", a_value_kind(args[0].kind())));
    }
  }
  return ctx.keep(Value::set(std::move(items)));
}

// Code points below 256 as single bytes: how protocol 2 spells bytes (latin-1).
std::string latin1_bytes(const std::string& name, const std::string& utf8) {
  std::string out;
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if ((c == 0xc2 || c == 0xc3) && i + 1 < utf8.size()) {
      const auto next = static_cast<unsigned char>(utf8[++i]);
      out += static_cast<char>(((c & 0x03U) << 6) | (next & 0x3fU));
    } else {
      bad_args(name, "a latin-1 string holds a character above U+00FF");
    }
  }
  return out;
}

bool is_latin1(const std::string& encoding) {
  return encoding == "latin1" || encoding == "latin-1" || encoding == "iso-8859-1" || encoding == "iso8859-1" ||
         encoding == "l1";
}

// _codecs.encode(str, encoding), bytes(...), bytearray(...).
Value make_bytes(const std::string& name, std::vector<Value>& args, CallContext& ctx) {
  if (args.empty()) return Value::bytes("");
  const Value& source = args[0];
  if (source.is(ValueKind::Bytes)) return source;
  if (source.is(ValueKind::Str)) {
    const std::string encoding = args.size() > 1 && args[1].is(ValueKind::Str) ? args[1].as_str() : "utf-8";
    if (is_latin1(encoding)) return Value::bytes(latin1_bytes(name, source.as_str()));
    if (encoding == "utf-8" || encoding == "utf8") return Value::bytes(source.as_str());
    return placeholder(ctx, name, args, fmt::format("encoding '{}' is not interpreted", encoding));
  }
  if (source.is(ValueKind::List) || source.is(ValueKind::Tuple)) {
    std::string out;
    for (const auto& b : source.as_sequence().items) {
      if (!b.is(ValueKind::Int) || b.as_int() < 0 || b.as_int() > 255) bad_args(name, "byte values must be in 0..255");
      out += static_cast<char>(b.as_int());
    }
    return Value::bytes(std::move(out));
  }
  return placeholder(ctx, name, args, std::string(kNotRun));
}

Value make_size(const std::string& name, std::vector<Value>& args, CallContext& ctx) {
  if (args.empty()) return ctx.keep(Value::tuple());
  if (!args[0].is_sequence()) bad_args(name, "expected a sequence of ints");
  return ctx.keep(Value::tuple(args[0].as_sequence().items));
}

// copyreg._reconstructor(cls, base, state): how protocols 0 and 1 rebuild
// objects; the placeholder is named after cls, which says more than the helper.
Value reconstructor(const std::string& name, std::vector<Value>& args, CallContext& ctx) {
  auto cls = args.empty() ? std::string() : global_name(args[0]);
  if (cls.empty()) return placeholder(ctx, name, args, std::string(kNotRun));
  if (is_refused_callable(cls)) {
    throw_error(ErrorKind::BadInput, fmt::format("refusing to load: the pickle constructs {} through {}", cls, name));
  }
  return placeholder(ctx, cls, {args.begin() + 1, args.end()}, std::string(kNotRun));
}

const std::unordered_map<std::string_view, Handler>& handlers() {
  static const std::unordered_map<std::string_view, Handler> kTable{
      {"torch._utils._rebuild_tensor_v2", rebuild_tensor},
      {"torch._utils._rebuild_tensor", rebuild_tensor},
      {"torch._utils._rebuild_parameter", rebuild_parameter},
      {"torch._utils._rebuild_parameter_with_state", rebuild_parameter},
      {"torch._tensor._rebuild_from_type_v2", rebuild_from_type},
      {"torch._tensor._rebuild_from_type", rebuild_from_type},
      {"collections.OrderedDict", make_dict},
      {"builtins.dict", make_dict},
      {"builtins.set", make_set},
      {"builtins.frozenset", make_set},
      {"builtins.bytes", make_bytes},
      {"builtins.bytearray", make_bytes},
      {"_codecs.encode", make_bytes},
      {"torch.Size", make_size},
      {"copyreg._reconstructor", reconstructor},
  };
  return kTable;
}

}  // namespace

Value CallContext::keep(Value v) {
  if (v.identity() != nullptr) kept_.push_back(v);
  return v;
}

Value make_global(std::string_view module, std::string_view qualname) {
  std::string mod(module);
  // Python 3 writes Python 2 names for protocols below 3 (fix_imports).
  if (mod == "__builtin__" || mod == "exceptions") mod = "builtins";
  if (mod == "copy_reg") mod = "copyreg";
  auto p = std::make_shared<PlaceholderData>();
  p->class_name = mod + "." + std::string(qualname);
  p->called = false;
  return Value::placeholder(std::move(p));
}

std::string global_name(const Value& v) {
  if (!v.is(ValueKind::Placeholder) || v.as_placeholder().called) return "";
  return v.as_placeholder().class_name;
}

bool is_refused_callable(std::string_view name) {
  const auto dot = name.find('.');
  const auto first = name.substr(0, dot);
  for (auto m : kRefusedModules) {
    if (first == m) return true;
  }
  if (first == "builtins" && dot != std::string_view::npos) {
    const auto rest = name.substr(dot + 1);
    for (auto b : kRefusedBuiltins) {
      if (rest == b) return true;
    }
  }
  return false;
}

Value call_global(const Value& callable, std::vector<Value> args, CallContext& ctx) {
  const std::string name = global_name(callable);
  if (name.empty()) {
    if (!callable.is(ValueKind::Placeholder)) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("{} is called, which is not callable", a_value_kind(callable.kind())));
    }
    // Calling the result of a call (e.g. of getattr): nothing to interpret.
    return placeholder(ctx, short_repr(callable), std::move(args), std::string(kNotRun));
  }
  if (is_refused_callable(name)) {
    throw_error(ErrorKind::BadInput, fmt::format("refusing to load: the pickle calls {}{}, which could run code "
                                                 "(pt2onnx never runs pickled callables)",
                                                 name, short_repr(Value::tuple(args))));
  }
  const auto& table = handlers();
  if (auto it = table.find(name); it != table.end()) return it->second(name, args, ctx);
  return placeholder(ctx, name, std::move(args), std::string(kNotRun));
}

}  // namespace pt2onnx::checkpoint
