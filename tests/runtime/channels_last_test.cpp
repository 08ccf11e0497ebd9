// channels_last_scale and channels_last_mean against their definitions, on
// shapes that do not divide evenly among the threads, with one to three
// threads. Inside a model they are covered by efficientnet_like_test
// (optimized against unoptimized) and pool_test.
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

TEST(RuntimeChannelsLast, MeanAveragesEveryChannelOverItsImagesPixelsWithTheSameBitsOnAnyTeam) {
  struct Case {
    std::int64_t images, pixels, channels;
  };
  // Channel counts with a register loop (8, 16, 32, 64) and without; a map
  // of one chunk, of many, and of a last chunk cut short.
  for (const auto c : {Case{1, 12544, 32}, Case{2, 49, 1152}, Case{3, 3136, 16}, Case{1, 7, 5}, Case{2, 1, 8},
                       Case{1, 1000, 64}, Case{4, 196, 24}}) {
    const auto x = random_values(static_cast<std::size_t>(c.images * c.pixels * c.channels), 5);
    std::vector<float> first;
    for (int threads : {1, 2, 3}) {
      std::vector<float> got(static_cast<std::size_t>(c.images * c.channels), -1.0f);
      std::vector<float> partials(
          static_cast<std::size_t>(runtime::mean_partial_floats(c.images, c.pixels, c.channels)));
      {
        runtime::ScopedThreadCount team(threads);
        runtime::channels_last_mean(x.data(), got.data(), partials.data(), c.images, c.pixels, c.channels);
      }
      for (std::int64_t n = 0; n < c.images; ++n) {
        for (std::int64_t ch = 0; ch < c.channels; ++ch) {
          double sum = 0.0;
          for (std::int64_t p = 0; p < c.pixels; ++p) {
            sum += static_cast<double>(x[static_cast<std::size_t>((n * c.pixels + p) * c.channels + ch)]);
          }
          const double want = sum / static_cast<double>(c.pixels);
          ASSERT_NEAR(got[static_cast<std::size_t>(n * c.channels + ch)], want, 1e-5)
              << "image " << n << " channel " << ch << " of " << c.images << "x" << c.pixels << "x" << c.channels
              << ", " << threads << " threads";
        }
      }
      if (first.empty()) {
        first = got;
      } else {
        ASSERT_EQ(got, first) << threads << " threads gave other bits than one, " << c.images << "x" << c.pixels << "x"
                              << c.channels;
      }
    }
  }
}

}  // namespace
}  // namespace pt2onnx::testing
