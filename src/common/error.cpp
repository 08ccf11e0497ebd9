#include "pt2onnx/error.h"

namespace pt2onnx {

Error::Error(ErrorKind kind, std::string message) : kind_(kind), message_(std::move(message)) { rebuild(); }

Error& Error::with_context(std::string context) {
  context_.insert(context_.begin(), std::move(context));
  rebuild();
  return *this;
}

void Error::rebuild() {
  full_.clear();
  for (const auto& c : context_) {
    full_ += c;
    full_ += ": ";
  }
  full_ += message_;
}

void throw_error(ErrorKind kind, std::string message) { throw Error(kind, std::move(message)); }

}  // namespace pt2onnx
