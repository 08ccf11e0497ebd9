#include <gtest/gtest.h>

#include "checkpoint/checkpoint.h"
#include "checkpoint/pickle_callables.h"
#include "checkpoint_test_util.h"

namespace pt2onnx::checkpoint {
namespace {

using testing::expect_error;

Value tensor(float v) {
  auto t = std::make_shared<TensorData>();
  t->tensor = make_f32({1}, {v});
  return Value::tensor(std::move(t));
}

Value dict(std::vector<std::pair<std::string, Value>> items) {
  Value d = Value::dict();
  for (auto& [k, v] : items) d.as_dict().set(Value::str(k), v);
  return d;
}

Value object(const std::string& cls) {
  auto p = std::make_shared<PlaceholderData>();
  p->class_name = cls;
  p->called = true;
  p->reason = "not an allowlisted constructor";
  return Value::placeholder(std::move(p));
}

LoadedStateDict extract(Value root, const std::optional<std::string>& key = {}) {
  Checkpoint c;
  c.root = std::move(root);
  return extract_state_dict(std::move(c), key);
}

std::vector<std::string> names(const LoadedStateDict& l) {
  std::vector<std::string> out;
  for (const auto& e : l.state_dict.entries) out.push_back(e.first);
  return out;
}

TEST(StateDictLookup, RootOrConventionalKeys) {
  EXPECT_EQ(extract(dict({{"w", tensor(1)}})).found_under, "");
  for (const char* key : {"model_state_dict", "state_dict", "model", "net", "ema"}) {
    SCOPED_TRACE(key);
    auto l = extract(dict({{"epoch", Value::from_int(3)}, {key, dict({{"w", tensor(1)}})}}));
    EXPECT_EQ(l.found_under, key);
    EXPECT_EQ(names(l), (std::vector<std::string>{"w"}));
  }
  // The raw weights win over the averaged ones, whatever the order in the file.
  EXPECT_EQ(extract(dict({{"ema", dict({{"e", tensor(1)}})}, {"model", dict({{"m", tensor(2)}})}})).found_under,
            "model");
  // Nested one level more, as some trainers do.
  EXPECT_EQ(extract(dict({{"model", dict({{"state_dict", dict({{"w", tensor(1)}})}, {"cfg", Value()}})}})).found_under,
            "model.state_dict");
}

TEST(StateDictLookup, ExplicitKeyWithDotsAndIndices) {
  Value root = dict({{"a.b", dict({{"w", tensor(1)}})},
                     {"runs", Value::list({dict({{"x", tensor(2)}}), dict({{"y", tensor(3)}})})},
                     {"model_state_dict", dict({{"z", tensor(4)}})}});
  EXPECT_EQ(names(extract(root, "a.b")), (std::vector<std::string>{"w"}));
  EXPECT_EQ(names(extract(root, "runs.1")), (std::vector<std::string>{"y"}));
  expect_error([&] { extract(root, "runs.7"); }, ErrorKind::BadInput, {"no entry '7'", "'runs'"});
  expect_error([&] { extract(root, "nope"); }, ErrorKind::BadInput, {"no entry 'nope'", "a.b, runs, model_state_dict"});
  expect_error([&] { extract(dict({{"n", Value::from_int(1)}}), "n"); }, ErrorKind::BadInput, {"holds an int"});
}

TEST(StateDictLookup, WrapperPrefixesAreStripped) {
  auto l = extract(dict({{"module._orig_mod.a", tensor(1)}, {"module._orig_mod.b", tensor(2)}}));
  EXPECT_EQ(names(l), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(l.stripped_prefixes, (std::vector<std::string>{"module.", "_orig_mod."}));
  // Only when every name has it: a real submodule called `module` stays.
  auto mixed = extract(dict({{"module.a", tensor(1)}, {"head.b", tensor(2)}}));
  EXPECT_EQ(names(mixed), (std::vector<std::string>{"module.a", "head.b"}));
  EXPECT_TRUE(mixed.stripped_prefixes.empty());
}

TEST(StateDictLookup, LabelsAreReadWhenPresent) {
  auto l = extract(dict({{"model_state_dict", dict({{"w", tensor(1)}})},
                         {"labels", Value::list({Value::str("biopsy"), Value::str("magview")})}}));
  ASSERT_TRUE(l.labels.has_value());
  EXPECT_EQ(*l.labels, (std::vector<std::string>{"biopsy", "magview"}));
  EXPECT_FALSE(extract(dict({{"w", tensor(1)}})).labels.has_value());
}

TEST(StateDictLookup, TiedWeightsAppearUnderBothNames) {
  Value shared = tensor(5);
  auto l = extract(dict({{"embed.weight", shared}, {"head.weight", shared}}));
  ASSERT_EQ(l.state_dict.size(), 2u);
  EXPECT_EQ(l.state_dict.entries[1].second.sum(), 5.0);
}

TEST(StateDictLookup, ErrorsNameWhatIsWrong) {
  expect_error(
      [] {
        extract(dict({{"w", tensor(1)}, {"user", object("mylib.Weird")}}));
      },
      ErrorKind::BadInput, {"state dict at the root", "'user'", "mylib.Weird", "not an allowlisted constructor"});
  expect_error(
      [] {
        extract(dict({{"w", tensor(1)}, {"n", Value::from_int(2)}}), std::string(""));
      },
      ErrorKind::BadInput, {});
  expect_error(
      [] {
        extract(dict({{"model", object("train.Net")}, {"epoch", Value::from_int(1)}}));
      },
      ErrorKind::BadInput, {"no state dict found", "model, epoch", "pickled train.Net object", "--key"});
  expect_error(
      [] {
        extract(dict({{"model", dict({{"w", tensor(1)}, {"n", Value::from_int(1)}})}}), "model");
      },
      ErrorKind::BadInput, {"state dict under 'model'", "'n' is an int"});
  expect_error([] { extract(Value::list({tensor(1)})); }, ErrorKind::BadInput, {"no state dict found", "it is a list"});
  expect_error([] { extract(Value::dict()); }, ErrorKind::BadInput, {"no state dict found", "it is empty"});
}

TEST(Value, ShortReprLooksLikePython) {
  Value d = dict({{"lr", Value::from_float(1e-05)},
                  {"betas", Value::tuple({Value::from_float(0.9)})},
                  {"n", Value()},
                  {"name", Value::str("it's")},
                  {"raw", Value::bytes(std::string("\x00\x7f", 2))},
                  {"s", Value::set()},
                  {"one", Value::from_float(1.0)}});
  EXPECT_EQ(short_repr(d, 200),
            "{'lr': 1e-05, 'betas': (0.9,), 'n': None, 'name': 'it\\'s', 'raw': b'\\x00\\x7f', "
            "'s': set(), 'one': 1.0}");
  EXPECT_EQ(short_repr(Value::str(std::string(100, 'x')), 10), "'xxxxxxxxx...");
  EXPECT_EQ(short_repr(make_global("torch", "float32")), "torch.float32");
}

}  // namespace
}  // namespace pt2onnx::checkpoint
