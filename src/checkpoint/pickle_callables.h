// What pt2onnx does where Python's unpickler would call something (REDUCE,
// NEWOBJ, INST, OBJ). Nothing is ever executed. A short allowlist of torch and
// builtin constructors is interpreted in C++; callables that could run code
// (os.system, builtins.eval, subprocess.*, ...) make the load fail, naming
// them; everything else becomes an inert placeholder that records its name
// and arguments.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "checkpoint/value.h"

namespace pt2onnx::checkpoint {

// Bookkeeping the unpickler shares with the callables it interprets.
class CallContext {
 public:
  // Records a container, tensor or placeholder created during unpickling, so
  // the unpickler can check the finished tree and tear it down safely.
  Value keep(Value v);
  // Records a tensor to materialise once its storage has been read.
  void add_tensor(const std::shared_ptr<TensorData>& t) { tensors_.push_back(t); }

  std::vector<std::weak_ptr<TensorData>>& tensors() { return tensors_; }
  std::vector<Value>& kept() { return kept_; }

 private:
  std::vector<Value> kept_;
  std::vector<std::weak_ptr<TensorData>> tensors_;
};

// A reference to a global (GLOBAL, STACK_GLOBAL, INST), as "module.qualname";
// Python 2 module names are mapped to Python 3 ones (__builtin__ -> builtins).
Value make_global(std::string_view module, std::string_view qualname);

// The "module.qualname" of a global reference, or "" when v is not one.
std::string global_name(const Value& v);

// True for callables whose call could run code or touch the system.
bool is_refused_callable(std::string_view qualified_name);

// Python's callable(*args), without executing anything (see above). Throws
// Error(BadInput) for a refused callable or malformed arguments to an
// interpreted one.
Value call_global(const Value& callable, std::vector<Value> args, CallContext& ctx);

}  // namespace pt2onnx::checkpoint
