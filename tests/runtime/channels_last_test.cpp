// channels_last_scale against the definition, on shapes that do not divide
// evenly among the threads, with one to three threads. Inside a model it is
// covered by efficientnet_like_test (optimized against unoptimized).
#include "runtime/kernels/channels_last.h"

#include <omp.h>

#include "runtime/test_model.h"
#include "runtime/threads.h"

namespace pt2onnx::testing {
namespace {

TEST(RuntimeChannelsLast, ScaleMultipliesEveryPixelByItsImagesGate) {
  struct Case {
    std::int64_t images, pixels, channels;
  };
  for (const auto c : {Case{1, 49, 1152}, Case{3, 7, 5}, Case{2, 1, 3}, Case{1, 3, 1}}) {
    for (int threads : {1, 2, 3}) {
      const auto x = random_values(static_cast<std::size_t>(c.images * c.pixels * c.channels), 3);
      const auto gate = random_values(static_cast<std::size_t>(c.images * c.channels), 4);
      auto got = x;
      {
        runtime::ScopedThreadCount team(threads);
        runtime::channels_last_scale(got.data(), gate.data(), c.images, c.pixels, c.channels);
      }
      std::size_t i = 0;
      for (std::int64_t n = 0; n < c.images; ++n) {
        for (std::int64_t p = 0; p < c.pixels; ++p) {
          for (std::int64_t ch = 0; ch < c.channels; ++ch, ++i) {
            ASSERT_EQ(got[i], x[i] * gate[static_cast<std::size_t>(n * c.channels + ch)])
                << "image " << n << " pixel " << p << " channel " << ch << ", " << threads << " threads";
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace pt2onnx::testing
