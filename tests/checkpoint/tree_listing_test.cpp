#include "checkpoint/tree_listing.h"

#include <gtest/gtest.h>

#include "checkpoint/unpickler.h"
#include "checkpoint_test_util.h"

namespace pt2onnx::checkpoint {
namespace {

using testing::expect_error;
using testing::Pickle;

std::vector<std::string> names(const std::vector<TreeLeaf>& leaves) {
  std::vector<std::string> out;
  for (const auto& l : leaves) out.push_back(l.name);
  return out;
}

TEST(TreeListing, NamesArePathsFromTheRoot) {
  // {'a': {'b': 1, 2: [None, (3, 4)], 'e': []}, 'c': 'x'}
  auto root = unpickle(Pickle()
                           .proto(2)
                           .empty_dict()
                           .str("a")
                           .empty_dict()
                           .str("b")
                           .int1(1)
                           .setitem()
                           .int1(2)
                           .mark()
                           .none()
                           .int1(3)
                           .int1(4)
                           .op(0x86)
                           .op('l')
                           .setitem()
                           .str("e")
                           .empty_list()
                           .setitem()
                           .setitem()
                           .str("c")
                           .str("x")
                           .setitem()
                           .stop()
                           .span(),
                       {})
                  .root;
  const auto leaves = list_leaves(root);
  EXPECT_EQ(names(leaves), (std::vector<std::string>{"a.b", "a.2.0", "a.2.1.0", "a.2.1.1", "a.e", "c"}));
  EXPECT_EQ(short_repr(leaves[4].value), "[]");  // empty containers are leaves
  EXPECT_EQ(names(list_leaves(Value::from_int(1))), (std::vector<std::string>{""}));
  EXPECT_EQ(names(list_leaves(root.as_dict().items[0].second, "a")),
            (std::vector<std::string>{"a.b", "a.2.0", "a.2.1.0", "a.2.1.1", "a.e"}));
}

TEST(TreeListing, ExponentialSharingIsCapped) {
  // a0 = [1]; a(n+1) = [a(n), a(n)]: 40 levels make 2^40 leaves from a few hundred bytes.
  Pickle p;
  p.proto(2).mark().int1(1).op('l');
  for (int i = 0; i < 40; ++i) p.op('2').op(0x86);
  p.stop();
  const auto root = unpickle(p.span(), {}).root;
  expect_error([&] { list_leaves(root); }, ErrorKind::BadInput, {"more than 1000000 entries"});
}

}  // namespace
}  // namespace pt2onnx::checkpoint
