// Options::threads: honoured exactly (OpenMP team size of the calling
// thread), defaulting to the physical cores within the CPU budget; results
// agree across counts.
#include <omp.h>

#include "common/error.h"
#include "runtime/test_model.h"
#include "runtime/threads.h"

namespace pt2onnx::testing {
namespace {

ModelBuilder conv_model() {
  ModelBuilder mb;
  mb.input("x", {-1, 8, 16, 16}).output("y");
  mb.initializer("w", {16, 8, 3, 3}, random_values(16 * 8 * 9, 1));
  set_ints(mb.node("Conv", {"x", "w"}, {"c"}), "pads", {1, 1, 1, 1});
  mb.node("Relu", {"c"}, {"y"});
  return mb;
}

TEST(RuntimeThreads, OptionIsHonouredAndDefaultsToTheCpuBudget) {
  const auto path = conv_model().save("threads.onnx");
  const auto x = random_tensor({2, 8, 16, 16}, 2);
  runtime::Options one;
  one.threads = 1;
  auto single = runtime::Model::load(path, one);
  EXPECT_EQ(single.threads(), 1);
  const auto a = values_of(single.run({x})[0]);
  EXPECT_EQ(omp_get_max_threads(), 1);

  runtime::Options three;
  three.threads = 3;
  auto multi = runtime::Model::load(path, three);
  EXPECT_EQ(multi.threads(), 3);
  const auto b = values_of(multi.run({x})[0]);
  EXPECT_EQ(omp_get_max_threads(), 3);
  EXPECT_TRUE(all_close(b, a, 1e-6, 1e-6));

  auto automatic = runtime::Model::load(path);
  EXPECT_EQ(automatic.threads(), runtime::default_threads());
  EXPECT_GE(automatic.threads(), 1);

  runtime::Options negative;
  negative.threads = -2;
  try {
    runtime::Model::load(path, negative);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
  }
}

}  // namespace
}  // namespace pt2onnx::testing
