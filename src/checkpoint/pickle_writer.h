// Emits pickle protocol 2 opcodes, enough for torch.save's data.pkl: ints,
// strings, tuples, globals, REDUCE, persistent ids and dict items.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "checkpoint/pickle_opcodes.h"

namespace pt2onnx::checkpoint {

class PickleWriter {
 public:
  PickleWriter();  // writes PROTO 2

  void mark();
  void stop();
  void none();
  void boolean(bool b);
  void integer(std::int64_t v);  // the shortest of BININT1, BININT2, BININT, LONG1
  void unicode(std::string_view utf8);
  void global(std::string_view module, std::string_view name);
  void empty_tuple();
  void tuple_from_mark();
  void int_tuple(const std::vector<std::int64_t>& values);
  void empty_dict();
  void reduce();
  void binpersid();
  void setitem();
  void setitems();

  [[nodiscard]] const std::string& bytes() const { return out_; }

 private:
  void op(PickleOp code) { out_ += static_cast<char>(code); }
  void byte(std::uint8_t b) { out_ += static_cast<char>(b); }
  void u32(std::uint32_t v);

  std::string out_;
};

}  // namespace pt2onnx::checkpoint
