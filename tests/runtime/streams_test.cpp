// Model::run from several threads at once (inference streams): shared
// weights and plans, one arena per concurrent run; every stream's results
// equal a single stream's, for mixed batch sizes.
#include <thread>

#include "runtime/efficientnet_like.h"

namespace pt2onnx::testing {
namespace {

TEST(RuntimeStreams, ConcurrentRunsEqualOneStream) {
  runtime::Options one_thread;
  one_thread.threads = 1;
  auto model = runtime::Model::load(efficientnet_like_model().save("streams.onnx"), one_thread);
  constexpr int kStreams = 3;
  constexpr int kRuns = 4;
  std::vector<Tensor> inputs;
  std::vector<std::vector<Tensor>> want;
  for (int s = 0; s < kStreams; ++s) {
    const std::int64_t batch = s == 2 ? 2 : 1;  // two streams share a plan, one has its own
    inputs.push_back(random_tensor({batch, 3, 224, 224}, 300 + static_cast<std::uint32_t>(s)));
    want.push_back(model.run({inputs.back()}));
  }
  std::vector<std::vector<std::vector<Tensor>>> got(kStreams);
  std::vector<std::string> errors(kStreams);
  {
    std::vector<std::jthread> streams;
    for (int s = 0; s < kStreams; ++s) {
      streams.emplace_back([&, s] {
        try {
          for (int r = 0; r < kRuns; ++r)
            got[static_cast<std::size_t>(s)].push_back(model.run({inputs[static_cast<std::size_t>(s)]}));
        } catch (const std::exception& e) {
          errors[static_cast<std::size_t>(s)] = e.what();
        }
      });
    }
  }
  for (std::size_t s = 0; s < kStreams; ++s) {
    ASSERT_EQ(errors[s], "") << "stream " << s;
    ASSERT_EQ(got[s].size(), static_cast<std::size_t>(kRuns));
    for (std::size_t r = 0; r < got[s].size(); ++r) {
      for (std::size_t o = 0; o < want[s].size(); ++o) {
        SCOPED_TRACE("stream " + std::to_string(s) + ", run " + std::to_string(r) + ", output " + std::to_string(o));
        // Same plan, same thread count: the same arithmetic in the same order.
        EXPECT_TRUE(all_close(values_of(got[s][r][o]), values_of(want[s][o]), 0.0, 0.0));
      }
    }
  }
}

}  // namespace
}  // namespace pt2onnx::testing
