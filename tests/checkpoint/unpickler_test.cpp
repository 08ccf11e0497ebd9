#include "checkpoint/unpickler.h"

#include <cmath>

#include <gtest/gtest.h>

#include "checkpoint/pickle_callables.h"
#include "checkpoint/pickle_text.h"
#include "checkpoint_test_util.h"

namespace pt2onnx::checkpoint {
namespace {

using testing::expect_error;
using testing::from_hex;
using testing::Pickle;

Value load(std::span<const std::byte> bytes, const PersistentLoad& pl = {}) { return unpickle(bytes, pl).root; }
Value load(const Pickle& p, const PersistentLoad& pl = {}) { return load(p.span(), pl); }

// The same dict pickled by Python 3.11 with protocols 0 to 5:
// {'i': 1, 'neg': -5, 'int32': -70000, 'big': 2**70, 'bigneg': -2**70, 'f': 0.1, 's': 'héllo',
//  'b': b'\x00\xff', 't': (1, 2), 'l': [None, True, False], 'set': {3}, 'fs': frozenset({4}),
//  'nested': {'x': [1.5]}, 'shared': [L, L] (L = [7]), 7: 'int key'}
// Between them they use nearly every opcode: text ints, floats and strings,
// memo PUT/GET in all widths, MEMOIZE, FRAME, LONG1, the protocol-2 spellings
// of bytes (_codecs.encode) and sets (builtins.set REDUCE), EMPTY_SET/ADDITEMS, FROZENSET.
const char* const kProtocolDumps[6] = {
    "286470300a56690a70310a49310a73566e65670a70320a492d350a7356696e7433320a70330a492d37303030300a73566269670a70340a"
    "4c313138303539313632303731373431313330333432344c0a73566269676e65670a70350a4c2d31313830353931363230373137343131"
    "3330333432344c0a7356660a70360a46302e310a7356730a70370a5668e96c6c6f0a70380a7356620a70390a635f636f646563730a656e"
    "636f64650a7031300a28565c7530303030ff0a7031310a566c6174696e310a7031320a747031330a527031340a7356740a7031350a2849"
    "310a49320a747031360a73566c0a7031370a286c7031380a4e614930310a614930300a6173567365740a7031390a635f5f6275696c7469"
    "6e5f5f0a7365740a7032300a28286c7032310a49330a61747032320a527032330a735666730a7032340a635f5f6275696c74696e5f5f0a"
    "66726f7a656e7365740a7032350a28286c7032360a49340a61747032370a527032380a73566e65737465640a7032390a28647033300a56"
    "780a7033310a286c7033320a46312e350a617373567368617265640a7033330a286c7033340a286c7033350a49370a61616733350a6173"
    "49370a56696e74206b65790a7033360a732e",
    "7d71002858010000006971014b0158030000006e656771024afbffffff5805000000696e74333271034a90eefeff580300000062696771"
    "044c313138303539313632303731373431313330333432344c0a58060000006269676e656771054c2d3131383035393136323037313734"
    "31313330333432344c0a5801000000667106473fb999999999999a5801000000737107580600000068c3a96c6c6f710858010000006271"
    "09635f636f646563730a656e636f64650a710a28580300000000c3bf710b58060000006c6174696e31710c74710d52710e580100000074"
    "710f284b014b0274711058010000006c71115d7112284e4930310a4930300a6558030000007365747113635f5f6275696c74696e5f5f0a"
    "7365740a7114285d71154b0361747116527117580200000066737118635f5f6275696c74696e5f5f0a66726f7a656e7365740a7119285d"
    "711a4b046174711b52711c58060000006e6573746564711d7d711e580100000078711f5d7120473ff80000000000006173580600000073"
    "686172656471215d7122285d71234b07616823654b075807000000696e74206b65797124752e",
    "80027d71002858010000006971014b0158030000006e656771024afbffffff5805000000696e74333271034a90eefeff58030000006269"
    "6771048a0900000000000000004058060000006269676e656771058a090000000000000000c05801000000667106473fb999999999999a"
    "5801000000737107580600000068c3a96c6c6f71085801000000627109635f636f646563730a656e636f64650a710a580300000000c3bf"
    "710b58060000006c6174696e31710c86710d52710e580100000074710f4b014b0286711058010000006c71115d7112284e888965580300"
    "00007365747113635f5f6275696c74696e5f5f0a7365740a71145d71154b0361857116527117580200000066737118635f5f6275696c74"
    "696e5f5f0a66726f7a656e7365740a71195d711a4b046185711b52711c58060000006e6573746564711d7d711e580100000078711f5d71"
    "20473ff80000000000006173580600000073686172656471215d7122285d71234b07616823654b075807000000696e74206b6579712475"
    "2e",
    "80037d71002858010000006971014b0158030000006e656771024afbffffff5805000000696e74333271034a90eefeff58030000006269"
    "6771048a0900000000000000004058060000006269676e656771058a090000000000000000c05801000000667106473fb999999999999a"
    "5801000000737107580600000068c3a96c6c6f71085801000000627109430200ff710a580100000074710b4b014b0286710c5801000000"
    "6c710d5d710e284e8889655803000000736574710f636275696c74696e730a7365740a71105d71114b0361857112527113580200000066"
    "737114636275696c74696e730a66726f7a656e7365740a71155d71164b046185711752711858060000006e657374656471197d711a5801"
    "00000078711b5d711c473ff800000000000061735806000000736861726564711d5d711e285d711f4b0761681f654b075807000000696e"
    "74206b65797120752e",
    "800495d2000000000000007d94288c0169944b018c036e6567944afbffffff8c05696e743332944a90eefeff8c03626967948a09000000"
    "0000000000408c066269676e6567948a090000000000000000c08c016694473fb999999999999a8c0173948c0668c3a96c6c6f948c0162"
    "94430200ff948c0174944b014b0286948c016c945d94284e8889658c03736574948f94284b03908c02667394284b0491948c066e657374"
    "6564947d948c0178945d94473ff800000000000061738c06736861726564945d94285d944b07616819654b078c07696e74206b65799475"
    "2e",
    "800595d2000000000000007d94288c0169944b018c036e6567944afbffffff8c05696e743332944a90eefeff8c03626967948a09000000"
    "0000000000408c066269676e6567948a090000000000000000c08c016694473fb999999999999a8c0173948c0668c3a96c6c6f948c0162"
    "94430200ff948c0174944b014b0286948c016c945d94284e8889658c03736574948f94284b03908c02667394284b0491948c066e657374"
    "6564947d948c0178945d94473ff800000000000061738c06736861726564945d94285d944b07616819654b078c07696e74206b65799475"
    "2e",
};

constexpr std::string_view kExpectedRepr =
    "{'i': 1, 'neg': -5, 'int32': -70000, 'big': 1180591620717411303424, 'bigneg': -1180591620717411303424, "
    "'f': 0.1, 's': 'h\xc3\xa9llo', 'b': b'\\x00\\xff', 't': (1, 2), 'l': [None, True, False], 'set': {3}, "
    "'fs': {4}, 'nested': {'x': [1.5]}, 'shared': [[7], [7]], 7: 'int key'}";

TEST(Unpickler, ReadsPythonDumpsOfEveryProtocol) {
  for (int protocol = 0; protocol <= 5; ++protocol) {
    SCOPED_TRACE(::testing::Message() << "protocol " << protocol);
    const auto bytes = from_hex(kProtocolDumps[protocol]);
    auto result = unpickle(bytes, {});
    EXPECT_EQ(result.consumed, bytes.size());
    const Value& root = result.root;
    EXPECT_EQ(short_repr(root, 10000), kExpectedRepr);
    const auto& d = root.as_dict();
    EXPECT_EQ(d.find("big")->kind(), ValueKind::BigInt);
    EXPECT_EQ(d.find("b")->kind(), ValueKind::Bytes);
    EXPECT_EQ(d.find("b")->as_bytes(), std::string("\x00\xff", 2));
    EXPECT_EQ(d.find("t")->kind(), ValueKind::Tuple);
    EXPECT_EQ(d.find("fs")->kind(), ValueKind::Set);
    EXPECT_TRUE(d.find("l")->as_sequence().items[1].as_bool());
    // The memo hands out the same list twice, as in Python.
    const auto& shared = d.find("shared")->as_sequence().items;
    EXPECT_EQ(shared[0].identity(), shared[1].identity());
    EXPECT_EQ(d.find(Value::from_int(7))->as_str(), "int key");
  }
}

TEST(Unpickler, ScalarOpcodes) {
  auto v = load(Pickle()
                    .proto(2)
                    .mark()
                    .int1(200)
                    .op('M')
                    .u16(60000)
                    .int4(-2)
                    .op('I')
                    .raw("123456789012\n")
                    .op('L')
                    .raw("-99999999999999999999999L\n")
                    .op('F')
                    .raw("2.5\n")
                    .op('G')
                    .raw(std::string("\x3f\xf0\x00\x00\x00\x00\x00\x00", 8))
                    .op(0x8a)
                    .u8(0)
                    .op(0x8b)
                    .u32(2)
                    .u16(0xff80)
                    .newtrue()
                    .newfalse()
                    .none()
                    .tuple()
                    .stop());
  EXPECT_EQ(short_repr(v, 1000),
            "(200, 60000, -2, 123456789012, -99999999999999999999999, 2.5, 1.0, 0, -128, True, False, None)");
}

TEST(Unpickler, StringOpcodes) {
  auto v = load(Pickle()
                    .proto(4)
                    .mark()
                    .op('S')
                    .raw("'a\\x41\\n\\'q'\n")
                    .op('T')
                    .u32(2)
                    .raw("hi")
                    .op('U')
                    .u8(1)
                    .raw("\xff")
                    .op('V')
                    .raw("\\u20ac\n")
                    .op(0x8c)
                    .u8(3)
                    .raw("abc")
                    .op(0x8d)
                    .u64(1)
                    .raw("z")
                    .op('B')
                    .u32(1)
                    .raw("b")
                    .op('C')
                    .u8(0)
                    .op(0x8e)
                    .u64(2)
                    .raw("cd")
                    .op(0x96)
                    .u64(1)
                    .raw("e")
                    .tuple()
                    .stop());
  const auto& items = v.as_sequence().items;
  ASSERT_EQ(items.size(), 10u);
  EXPECT_EQ(items[0].as_str(), "aA\n'q");
  EXPECT_EQ(items[1].as_str(), "hi");
  EXPECT_EQ(items[2].as_bytes(), "\xff");  // Python 2 str that is not UTF-8 stays bytes
  EXPECT_EQ(items[3].as_str(), "\xe2\x82\xac");
  EXPECT_EQ(items[4].as_str(), "abc");
  EXPECT_EQ(items[5].as_str(), "z");
  EXPECT_EQ(items[6].as_bytes(), "b");
  EXPECT_EQ(items[7].as_bytes(), "");
  EXPECT_EQ(items[8].as_bytes(), "cd");
  EXPECT_EQ(items[9].as_bytes(), "e");
}

TEST(Unpickler, ContainerOpcodes) {
  auto v = load(Pickle()
                    .proto(4)
                    .empty_dict()
                    .binput(0)
                    .str("list")
                    .mark()
                    .int1(1)
                    .int1(2)
                    .op('l')
                    .mark()
                    .int1(3)
                    .op('e')
                    .setitem()
                    .str("t123")
                    .int1(1)
                    .int1(2)
                    .int1(3)
                    .op(0x87)
                    .setitem()
                    .str("dict")
                    .mark()
                    .str("k")
                    .int1(1)
                    .op('d')
                    .setitem()
                    .str("set")
                    .op(0x8f)
                    .mark()
                    .int1(1)
                    .int1(2)
                    .op(0x90)
                    .setitem()
                    .str("frozen")
                    .mark()
                    .int1(5)
                    .op(0x91)
                    .setitem()
                    .str("dup")
                    .int1(9)
                    .op('2')
                    .op(0x86)
                    .setitem()
                    .str("popped")
                    .int1(1)
                    .int1(2)
                    .op('0')
                    .setitem()
                    .str("popmark")
                    .int1(4)
                    .mark()
                    .int1(1)
                    .int1(2)
                    .op('1')
                    .setitem()
                    .str("self_ref")
                    .binget(0)
                    .op('0')
                    .int1(0)
                    .setitem()
                    .stop());
  EXPECT_EQ(short_repr(v, 1000),
            "{'list': [1, 2, 3], 't123': (1, 2, 3), 'dict': {'k': 1}, 'set': {1, 2}, 'frozen': {5}, "
            "'dup': (9, 9), 'popped': 1, 'popmark': 4, 'self_ref': 0}");
}

TEST(Unpickler, DictKeysFollowPythonEquality) {
  auto v = load(Pickle()
                    .proto(2)
                    .empty_dict()
                    .int1(1)
                    .str("int")
                    .setitem()
                    .op('G')
                    .raw(std::string("\x3f\xf0\x00\x00\x00\x00\x00\x00", 8))
                    .str("float")
                    .setitem()
                    .newtrue()
                    .str("bool")
                    .setitem()
                    .stop());
  ASSERT_EQ(v.as_dict().items.size(), 1u);  // 1, 1.0 and True are one key
  EXPECT_EQ(v.as_dict().items[0].second.as_str(), "bool");
  expect_error([] { load(Pickle().proto(2).empty_dict().empty_list().int1(1).setitem().stop()); }, ErrorKind::BadInput,
               {"unhashable"});
}

TEST(Unpickler, MemoOpcodes) {
  auto v = load(Pickle()
                    .proto(4)
                    .str("a")
                    .op('p')
                    .raw("7\n")
                    .op('0')
                    .str("b")
                    .op('r')
                    .u32(70000)
                    .op('0')
                    .str("c")
                    .op(0x94)
                    .op('0')
                    .mark()
                    .op('g')
                    .raw("7\n")
                    .op('j')
                    .u32(70000)
                    .binget(2)
                    .tuple()
                    .stop());
  EXPECT_EQ(short_repr(v), "('a', 'b', 'c')");  // MEMOIZE uses the memo's size (2) as its key
  expect_error([] { load(Pickle().proto(2).binget(3).stop()); }, ErrorKind::BadInput, {"memo key 3", "BINGET"});
}

TEST(Unpickler, UnknownGlobalsBecomeInertPlaceholders) {
  // argparse.Namespace(lr=0.1) as protocol 2 writes it: NEWOBJ, then BUILD with its __dict__.
  auto v = load(Pickle()
                    .proto(2)
                    .global("argparse", "Namespace")
                    .empty_tuple()
                    .newobj()
                    .empty_dict()
                    .str("lr")
                    .op('G')
                    .raw(std::string("\x3f\xb9\x99\x99\x99\x99\x99\x9a", 8))
                    .setitem()
                    .build()
                    .stop());
  ASSERT_EQ(v.kind(), ValueKind::Placeholder);
  EXPECT_EQ(v.as_placeholder().class_name, "argparse.Namespace");
  EXPECT_TRUE(v.as_placeholder().called);
  EXPECT_EQ(short_repr(v), "argparse.Namespace(lr=0.1)");
  // A REDUCE of an unknown function, a bare reference to a global, a list subclass.
  auto w = load(Pickle()
                    .proto(4)
                    .mark()
                    .global("numpy.core.multiarray", "scalar")
                    .mark()
                    .int1(1)
                    .tuple()
                    .reduce()
                    .global("torch", "float32")
                    .global("mylib", "MyList")
                    .empty_tuple()
                    .newobj()
                    .mark()
                    .int1(1)
                    .op('e')
                    .tuple()
                    .stop());
  const auto& items = w.as_sequence().items;
  EXPECT_EQ(short_repr(items[0]), "numpy.core.multiarray.scalar(1)");
  EXPECT_FALSE(items[1].as_placeholder().called);
  EXPECT_EQ(items[1].as_placeholder().class_name, "torch.float32");
  EXPECT_EQ(items[2].as_placeholder().list_items.size(), 1u);
}

TEST(Unpickler, InterpretsTheAllowlist) {
  auto v = load(Pickle()
                    .proto(2)
                    .mark()
                    .global("collections", "OrderedDict")
                    .empty_tuple()
                    .reduce()
                    .str("a")
                    .int1(1)
                    .setitem()
                    .global("__builtin__", "set")
                    .mark()
                    .mark()
                    .int1(1)
                    .int1(1)
                    .op('l')
                    .tuple()
                    .reduce()
                    .global("_codecs", "encode")
                    .mark()
                    .str("\xc3\xbf\x01")
                    .str("latin1")
                    .tuple()
                    .reduce()
                    .global("__builtin__", "bytearray")
                    .mark()
                    .str("ab")
                    .str("latin-1")
                    .tuple()
                    .reduce()
                    .global("torch", "Size")
                    .mark()
                    .mark()
                    .int1(2)
                    .int1(3)
                    .op('l')
                    .tuple()
                    .reduce()
                    .global("copy_reg", "_reconstructor")
                    .mark()
                    .global("mymod", "Thing")
                    .global("__builtin__", "object")
                    .none()
                    .tuple()
                    .reduce()
                    .tuple()
                    .stop());
  const auto& items = v.as_sequence().items;
  EXPECT_EQ(short_repr(items[0]), "{'a': 1}");
  EXPECT_EQ(short_repr(items[1]), "{1}");
  EXPECT_EQ(items[2].as_bytes(), "\xff\x01");
  EXPECT_EQ(items[3].as_bytes(), "ab");
  EXPECT_EQ(short_repr(items[4]), "(2, 3)");
  EXPECT_EQ(items[5].as_placeholder().class_name, "mymod.Thing");
}

TEST(Unpickler, InstAndObjCallNothing) {
  auto v = load(Pickle()
                    .mark()
                    .int1(1)
                    .op('i')
                    .raw("mymod\nThing\n")
                    .mark()
                    .global("mymod", "Other")
                    .int1(2)
                    .op('o')
                    .op(0x86)
                    .stop());
  EXPECT_EQ(short_repr(v), "(mymod.Thing(1), mymod.Other(2))");
}

TEST(Unpickler, RefusesCallablesThatRunCode) {
  const std::pair<const char*, const char*> cases[] = {{"posix", "system"},
                                                       {"os", "system"},
                                                       {"nt", "system"},
                                                       {"subprocess", "Popen"},
                                                       {"subprocess", "check_output"},
                                                       {"builtins", "eval"},
                                                       {"__builtin__", "exec"},
                                                       {"builtins", "__import__"},
                                                       {"builtins", "open"},
                                                       {"runpy", "run_path"}};
  for (const auto& [module, name] : cases) {
    SCOPED_TRACE(std::string(module) + "." + name);
    const auto p = Pickle().proto(2).global(module, name).mark().str("touch /tmp/pwned").tuple().reduce().stop();
    expect_error([&] { load(p); }, ErrorKind::BadInput, {"refusing", name, "REDUCE"});
  }
  // The same through NEWOBJ, INST, OBJ and STACK_GLOBAL + REDUCE.
  expect_error([] { load(Pickle().proto(2).global("subprocess", "Popen").empty_tuple().newobj().stop()); },
               ErrorKind::BadInput, {"subprocess.Popen"});
  expect_error([] { load(Pickle().mark().str("id").op('i').raw("os\nsystem\n").stop()); }, ErrorKind::BadInput,
               {"os.system"});
  expect_error([] { load(Pickle().mark().global("os", "system").str("id").op('o').stop()); }, ErrorKind::BadInput,
               {"os.system"});
  expect_error(
      [] { load(Pickle().proto(4).str("posix").str("system").op(0x93).mark().str("id").tuple().reduce().stop()); },
      ErrorKind::BadInput, {"posix.system"});
  // Naming a dangerous global without calling it runs nothing and is allowed.
  EXPECT_EQ(global_name(load(Pickle().proto(2).global("os", "system").stop())), "os.system");
}

TEST(Unpickler, PersistentIdsGoToTheCallback) {
  Value seen;
  auto v =
      load(Pickle().proto(2).mark().str("storage").int1(3).tuple().binpersid().op('P').raw("legacy\n").op(0x86).stop(),
           [&](const Value& pid) {
             seen = pid;
             return Value::str("resolved");
           });
  EXPECT_EQ(short_repr(v), "('resolved', 'resolved')");
  EXPECT_EQ(seen.as_str(), "legacy");
  expect_error([] { load(Pickle().proto(2).none().binpersid().stop()); }, ErrorKind::BadInput, {"persistent id"});
}

TEST(Unpickler, MalformedStreamsFailWithTheOffset) {
  expect_error([] { load(std::span<const std::byte>()); }, ErrorKind::BadInput,
               {"truncated", "offset 0 (unknown opcode)"});
  expect_error([] { load(Pickle().proto(2).str("abc")); }, ErrorKind::BadInput, {"truncated"});  // no STOP
  expect_error([] { load(Pickle().proto(2).op('X').u32(1000).raw("ab")); }, ErrorKind::BadInput,
               {"truncated", "1000 bytes", "BINUNICODE"});
  expect_error([] { load(Pickle().proto(4).op(0x8d).u64(~0ULL).stop()); }, ErrorKind::BadInput, {"truncated"});
  expect_error([] { load(Pickle().proto(2).op(0xff)); }, ErrorKind::BadInput, {"unknown opcode 0xff", "offset 2"});
  expect_error([] { load(Pickle().proto(9).stop()); }, ErrorKind::Unsupported, {"protocol 9"});
  expect_error([] { load(Pickle().proto(2).stop()); }, ErrorKind::BadInput, {"underflow"});
  expect_error([] { load(Pickle().proto(2).int1(1).mark().op('a').stop()); }, ErrorKind::BadInput, {"underflow"});
  expect_error([] { load(Pickle().proto(2).op('u').stop()); }, ErrorKind::BadInput, {"MARK"});
  expect_error([] { load(Pickle().proto(2).int1(1).int1(2).op('a').stop()); }, ErrorKind::BadInput,
               {"APPEND to an int"});
  expect_error([] { load(Pickle().proto(2).op('T').u32(0x80000000u).stop()); }, ErrorKind::BadInput,
               {"negative length"});
  expect_error([] { load(Pickle().proto(2).op(0x8b).u32(100000).stop()); }, ErrorKind::BadInput, {"100000 bytes"});
  expect_error([] { load(Pickle().proto(2).op(0x82).u8(1).stop()); }, ErrorKind::Unsupported, {"extension"});
  expect_error([] { load(Pickle().proto(5).none().op(0x97).stop()); }, ErrorKind::Unsupported, {"out-of-band"});
  expect_error([] { load(Pickle().proto(2).op('I').raw("12x\n").stop()); }, ErrorKind::BadInput, {"malformed int"});
  expect_error([] { load(Pickle().proto(2).int1(1).empty_tuple().reduce().stop()); }, ErrorKind::BadInput,
               {"not callable"});
}

TEST(Unpickler, RefusesCyclesAndDeepNesting) {
  // l = []; l.append(l)
  expect_error([] { load(Pickle().proto(2).empty_list().binput(0).binget(0).append().stop()); }, ErrorKind::BadInput,
               {"cycle"});
  Pickle deep;
  deep.proto(2);
  for (int i = 0; i < 300; ++i) deep.mark();
  for (int i = 0; i < 300; ++i) deep.op('l');
  deep.stop();
  expect_error([&] { load(deep); }, ErrorKind::BadInput, {"nested more than 200"});
  // A much deeper structure that is dropped (POP) must not overflow the stack when destroyed.
  Pickle dropped;
  dropped.proto(2);
  for (int i = 0; i < 200000; ++i) dropped.empty_list();
  for (int i = 0; i < 199999; ++i) dropped.append();
  dropped.op('0').none().stop();
  EXPECT_TRUE(load(dropped).is_none());
}

TEST(Unpickler, OpcodeCountIsCapped) {
  Pickle p;
  p.proto(2).mark();
  for (int i = 0; i < 100; ++i) p.empty_list();
  p.op('l').stop();
  UnpickleLimits limits;
  limits.max_opcodes = 50;
  expect_error([&] { unpickle(p.span(), {}, limits); }, ErrorKind::BadInput, {"more than 50 pickle opcodes"});
  EXPECT_EQ(load(p).as_sequence().items.size(), 100u);
}

TEST(Unpickler, DecodesLongs) {
  auto dec = [](std::string_view hex) { return short_repr(decode_long(from_hex(hex)), 200); };
  EXPECT_EQ(dec(""), "0");
  EXPECT_EQ(dec("ff"), "-1");
  EXPECT_EQ(dec("0080"), "-32768");
  EXPECT_EQ(dec("ffffffffffffff7f"), "9223372036854775807");
  EXPECT_EQ(dec("000000000000008000"), "9223372036854775808");
  EXPECT_EQ(dec("0000000000000080"), "-9223372036854775808");
  EXPECT_EQ(dec("0000000000000080ff"), "-9223372036854775808");
  EXPECT_EQ(dec("6cfc9c46f9206aa85019"), "119547037146038801333356");  // torch's legacy magic number
  EXPECT_EQ(dec("00000000000000000001"), "4722366482869645213696");    // 2**72
}

TEST(PickleText, Literals) {
  EXPECT_EQ(short_repr(parse_decimal_int("01")), "True");
  EXPECT_EQ(short_repr(parse_decimal_int("-0012345678901234567890L")), "-12345678901234567890");
  EXPECT_EQ(parse_float_literal("1e-05"), 1e-05);
  EXPECT_TRUE(std::isinf(parse_float_literal("1e999")));
  EXPECT_EQ(parse_quoted_string("\"a\\tb\\101\""), "a\tbA");
  EXPECT_EQ(decode_raw_unicode_escape("a\\U0001F600"), "a\xf0\x9f\x98\x80");
  EXPECT_TRUE(is_valid_utf8("h\xc3\xa9"));
  EXPECT_FALSE(is_valid_utf8("h\xc3"));
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_THROW(parse_quoted_string("'abc"), Error);
  EXPECT_THROW(parse_float_literal("1.0x"), Error);
}

}  // namespace
}  // namespace pt2onnx::checkpoint
