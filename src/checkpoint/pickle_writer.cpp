#include "checkpoint/pickle_writer.h"

#include <limits>

#include "checkpoint/pickle_opcodes.h"
#include "pt2onnx/error.h"

namespace pt2onnx::checkpoint {

PickleWriter::PickleWriter() {
  op(PickleOp::Proto);
  byte(2);  // protocol version
}

void PickleWriter::u32(std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out_ += static_cast<char>((v >> (8 * i)) & 0xffU);
}

void PickleWriter::mark() { op(PickleOp::Mark); }
void PickleWriter::stop() { op(PickleOp::Stop); }
void PickleWriter::none() { op(PickleOp::None); }
void PickleWriter::boolean(bool b) { op(b ? PickleOp::NewTrue : PickleOp::NewFalse); }

void PickleWriter::integer(std::int64_t v) {
  if (v >= 0 && v <= 0xff) {
    op(PickleOp::BinInt1);
    byte(static_cast<std::uint8_t>(v));
  } else if (v >= 0 && v <= 0xffff) {
    op(PickleOp::BinInt2);
    byte(static_cast<std::uint8_t>(v & 0xff));
    byte(static_cast<std::uint8_t>(v >> 8));
  } else if (v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max()) {
    op(PickleOp::BinInt);
    u32(static_cast<std::uint32_t>(static_cast<std::int32_t>(v)));
  } else {
    op(PickleOp::Long1);
    byte(8);
    const auto u = static_cast<std::uint64_t>(v);
    for (int i = 0; i < 8; ++i) byte(static_cast<std::uint8_t>((u >> (8 * i)) & 0xffU));
  }
}

void PickleWriter::unicode(std::string_view utf8) {
  if (utf8.size() > std::numeric_limits<std::uint32_t>::max()) {
    throw_error(ErrorKind::Internal, "string too long for BINUNICODE");
  }
  op(PickleOp::BinUnicode);
  u32(static_cast<std::uint32_t>(utf8.size()));
  out_ += utf8;
}

void PickleWriter::global(std::string_view module, std::string_view name) {
  op(PickleOp::Global);
  out_ += module;
  out_ += '\n';
  out_ += name;
  out_ += '\n';
}

void PickleWriter::empty_tuple() { op(PickleOp::EmptyTuple); }
void PickleWriter::tuple_from_mark() { op(PickleOp::Tuple); }

void PickleWriter::int_tuple(const std::vector<std::int64_t>& values) {
  if (values.empty()) {
    empty_tuple();
    return;
  }
  mark();
  for (auto v : values) integer(v);
  tuple_from_mark();
}

void PickleWriter::empty_dict() { op(PickleOp::EmptyDict); }
void PickleWriter::reduce() { op(PickleOp::Reduce); }
void PickleWriter::binpersid() { op(PickleOp::BinPersId); }
void PickleWriter::setitem() { op(PickleOp::SetItem); }
void PickleWriter::setitems() { op(PickleOp::SetItems); }

}  // namespace pt2onnx::checkpoint
