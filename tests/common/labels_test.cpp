// The one label-list rule of export, infer and the pt2onnx.labels metadata:
// names trimmed, none empty, none with a line break, none twice; the error
// kind is the caller's (Usage for a flag, BadInput for a file).
#include <gtest/gtest.h>

#include "common/labels.h"
#include "support/error_kind.h"

namespace pt2onnx {
namespace {

using pt2onnx::testing::kind_of;

TEST(Labels, ParsesACommaSeparatedListTrimmingSpaces) {
  EXPECT_EQ(parse_labels("a, b ,c", ErrorKind::Usage), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(parse_labels("\tbenign\t,malignant lesion", ErrorKind::Usage),
            (std::vector<std::string>{"benign", "malignant lesion"}));
  EXPECT_EQ(parse_labels("only", ErrorKind::Usage), (std::vector<std::string>{"only"}));
}

TEST(Labels, RefusesEmptyRepeatedAndMultiLineNamesWithTheCallersKind) {
  for (const char* bad : {"", "a,,b", "a,", ",a", " , ", "a,a", "a, a", "a\nb,c", "x,y\r"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(kind_of([&] { parse_labels(bad, ErrorKind::Usage); }), ErrorKind::Usage);
    EXPECT_EQ(kind_of([&] { parse_labels(bad, ErrorKind::BadInput); }), ErrorKind::BadInput);
  }
  try {
    parse_labels("cat,dog,cat", ErrorKind::Usage);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("'cat' is given twice"), std::string::npos) << e.message();
  }
}

TEST(Labels, CheckWantsOneNameForEachOutput) {
  EXPECT_NO_THROW(check_labels({"a", "b"}, 2, ErrorKind::Usage));
  EXPECT_EQ(kind_of([] { check_labels({"a", "b"}, 3, ErrorKind::BadInput); }), ErrorKind::BadInput);
  EXPECT_EQ(kind_of([] { check_labels({"a", "a"}, 2, ErrorKind::Usage); }), ErrorKind::Usage);
  EXPECT_EQ(kind_of([] { check_labels({"a,b", "c"}, 2, ErrorKind::Usage); }), ErrorKind::Usage);
  EXPECT_EQ(kind_of([] { check_labels({"", "c"}, 2, ErrorKind::Usage); }), ErrorKind::Usage);
}

}  // namespace
}  // namespace pt2onnx
