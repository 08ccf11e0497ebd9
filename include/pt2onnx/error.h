// Errors carry a kind (which decides the CLI exit code) and a context chain
// from the outside in: file, entry, node or tensor, then what went wrong.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace pt2onnx {

enum class ErrorKind {
  Usage,         // bad command line
  Io,            // cannot read or write a path
  BadInput,      // input file malformed, truncated, unsafe or not what it claims
  ArchMismatch,  // checkpoint does not fit the requested architecture
  Unsupported,   // valid input using something pt2onnx does not implement
  ExportFailed,  // export or the ONNX checker failed
  VerifyFailed,  // numeric or structural verification failed
  Internal,      // a bug in pt2onnx
};

class Error : public std::exception {
 public:
  Error(ErrorKind kind, std::string message);

  // Adds an outer context ("file model.pth", "entry archive/data.pkl").
  Error& with_context(std::string context);

  [[nodiscard]] ErrorKind kind() const { return kind_; }
  [[nodiscard]] const std::string& message() const { return message_; }
  // Outermost first.
  [[nodiscard]] const std::vector<std::string>& context() const { return context_; }
  // "file model.pth: entry archive/data.pkl: offset 12: unknown opcode 0xff"
  [[nodiscard]] const char* what() const noexcept override { return full_.c_str(); }

 private:
  void rebuild();

  ErrorKind kind_;
  std::string message_;
  std::vector<std::string> context_;
  std::string full_;
};

// Runs fn; an Error escaping it gets `context` prepended. Keeps call sites flat.
template <typename Fn>
decltype(auto) with_error_context(const std::string& context, Fn&& fn) {
  try {
    return fn();
  } catch (Error& e) {
    e.with_context(context);
    throw;
  }
}

[[noreturn]] void throw_error(ErrorKind kind, std::string message);

}  // namespace pt2onnx
