#include "checkpoint/pickle_writer.h"

#include <limits>

#include "common/error.h"

namespace pt2onnx::checkpoint {
namespace {

// Opcode bytes from Python's pickle module.
constexpr std::uint8_t kProto = 0x80;
constexpr std::uint8_t kMark = '(';
constexpr std::uint8_t kStop = '.';
constexpr std::uint8_t kNone = 'N';
constexpr std::uint8_t kNewTrue = 0x88;
constexpr std::uint8_t kNewFalse = 0x89;
constexpr std::uint8_t kBinInt1 = 'K';
constexpr std::uint8_t kBinInt2 = 'M';
constexpr std::uint8_t kBinInt = 'J';
constexpr std::uint8_t kLong1 = 0x8a;
constexpr std::uint8_t kBinUnicode = 'X';
constexpr std::uint8_t kGlobal = 'c';
constexpr std::uint8_t kEmptyTuple = ')';
constexpr std::uint8_t kTuple = 't';
constexpr std::uint8_t kEmptyDict = '}';
constexpr std::uint8_t kReduce = 'R';
constexpr std::uint8_t kBinPersId = 'Q';
constexpr std::uint8_t kSetItem = 's';
constexpr std::uint8_t kSetItems = 'u';

}  // namespace

PickleWriter::PickleWriter() {
  op(kProto);
  op(2);
}

void PickleWriter::u32(std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out_ += static_cast<char>((v >> (8 * i)) & 0xffU);
}

void PickleWriter::mark() { op(kMark); }
void PickleWriter::stop() { op(kStop); }
void PickleWriter::none() { op(kNone); }
void PickleWriter::boolean(bool b) { op(b ? kNewTrue : kNewFalse); }

void PickleWriter::integer(std::int64_t v) {
  if (v >= 0 && v <= 0xff) {
    op(kBinInt1);
    op(static_cast<std::uint8_t>(v));
  } else if (v >= 0 && v <= 0xffff) {
    op(kBinInt2);
    op(static_cast<std::uint8_t>(v & 0xff));
    op(static_cast<std::uint8_t>(v >> 8));
  } else if (v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max()) {
    op(kBinInt);
    u32(static_cast<std::uint32_t>(static_cast<std::int32_t>(v)));
  } else {
    op(kLong1);
    op(8);
    const auto u = static_cast<std::uint64_t>(v);
    for (int i = 0; i < 8; ++i) op(static_cast<std::uint8_t>((u >> (8 * i)) & 0xffU));
  }
}

void PickleWriter::unicode(std::string_view utf8) {
  if (utf8.size() > std::numeric_limits<std::uint32_t>::max()) {
    throw_error(ErrorKind::Internal, "string too long for BINUNICODE");
  }
  op(kBinUnicode);
  u32(static_cast<std::uint32_t>(utf8.size()));
  out_ += utf8;
}

void PickleWriter::global(std::string_view module, std::string_view name) {
  op(kGlobal);
  out_ += module;
  out_ += '\n';
  out_ += name;
  out_ += '\n';
}

void PickleWriter::empty_tuple() { op(kEmptyTuple); }
void PickleWriter::tuple_from_mark() { op(kTuple); }

void PickleWriter::int_tuple(const std::vector<std::int64_t>& values) {
  if (values.empty()) {
    empty_tuple();
    return;
  }
  mark();
  for (auto v : values) integer(v);
  tuple_from_mark();
}

void PickleWriter::empty_dict() { op(kEmptyDict); }
void PickleWriter::reduce() { op(kReduce); }
void PickleWriter::binpersid() { op(kBinPersId); }
void PickleWriter::setitem() { op(kSetItem); }
void PickleWriter::setitems() { op(kSetItems); }

}  // namespace pt2onnx::checkpoint
