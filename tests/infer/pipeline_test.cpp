#include "infer/pipeline.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "infer/fake_engine.h"
#include "pt2onnx/error.h"
#include "vision/test_images.h"

namespace pt2onnx::infer {
namespace {

using testing::Bytes;
using testing::TempDir;

// A solid colour PNG whose channel means after preprocessing (mean 0, std 1)
// are value / 255.
Bytes solid_png(std::uint8_t r, std::uint8_t g, std::uint8_t b, std::uint32_t w = 9, std::uint32_t h = 7) {
  Bytes px;
  for (std::uint32_t i = 0; i < w * h; ++i) px.insert(px.end(), {r, g, b});
  return testing::encode_png(w, h, SPNG_COLOR_TYPE_TRUECOLOR, 8, px);
}

PipelineOptions options(int batch, int threads) {
  PipelineOptions o;
  o.preprocess.resize.size = {4, 4};
  o.preprocess.mean = {0, 0, 0};
  o.preprocess.std = {1, 1, 1};
  o.input_size = {4, 4};
  o.batch_size = batch;
  o.decode_threads = threads;
  return o;
}

struct PipelineRun {
  std::vector<ImageResult> results;
  PipelineStats stats;
};

PipelineRun run(const std::vector<std::string>& paths, BatchEngine& engine, const PipelineOptions& o) {
  std::size_t next = 0;
  PipelineRun r;
  r.stats = run_pipeline(
      [&]() -> std::optional<InputItem> {
        if (next >= paths.size()) return std::nullopt;
        return InputItem{paths[next++], {}};
      },
      engine, o, [&](const ImageResult& result) { r.results.push_back(result); });
  return r;
}

std::vector<std::string> numbered_images(const TempDir& dir) {
  std::vector<std::string> paths;
  for (int i = 0; i < 37; ++i) {
    const auto path = dir / (std::to_string(i) + ".png");
    if (i % 5 == 3) {
      testing::write_text(path, "broken");
    } else {
      testing::write_file(path, solid_png(static_cast<std::uint8_t>(i * 6), 0, 255));
    }
    paths.push_back(path.string());
  }
  paths.push_back((dir / "missing.png").string());
  return paths;
}

// The rows of numbered_images: in order, the broken and the missing ones as
// errors, the others traced back to their image by its red channel.
void expect_numbered_rows(const PipelineRun& r, const std::vector<std::string>& paths) {
  ASSERT_EQ(r.results.size(), paths.size());
  EXPECT_EQ(r.stats.failed, 7 + 1);  // 3, 8, ..., 33 and the missing file
  EXPECT_EQ(r.stats.ok, 37 - 7);
  for (std::size_t i = 0; i < paths.size(); ++i) {
    const ImageResult& res = r.results[i];
    EXPECT_EQ(res.path, paths[i]);
    EXPECT_EQ(res.position, static_cast<std::int64_t>(i));
    if (i == 37 || i % 5 == 3) {
      EXPECT_FALSE(res.error.empty()) << res.path;
      EXPECT_TRUE(res.outputs.empty());
    } else {
      ASSERT_TRUE(res.error.empty()) << res.error;
      ASSERT_EQ(res.outputs.size(), 3u);
      EXPECT_FLOAT_EQ(res.outputs[0], static_cast<float>(i * 6) / 255.0f) << "image " << i;
      EXPECT_FLOAT_EQ(res.outputs[2], 1.0f);
    }
  }
}

TEST(Pipeline, ResultsComeInInputOrderWithErrorsInPlace) {
  TempDir dir("pt2onnx-pipeline");
  const std::vector<std::string> paths = numbered_images(dir);
  for (int threads : {1, 3}) {
    for (int batch : {1, 4, 32}) {
      testing::ChannelMeanEngine engine;
      const PipelineRun r = run(paths, engine, options(batch, threads));
      expect_numbered_rows(r, paths);
      for (auto n : engine.batch_sizes) EXPECT_LE(n, batch);
    }
  }
}

TEST(Pipeline, ImageWorkersDecodeAndRunOneImageEach) {
  TempDir dir("pt2onnx-pipeline");
  const std::vector<std::string> paths = numbered_images(dir);
  for (int workers : {1, 2, 5}) {
    SCOPED_TRACE("workers " + std::to_string(workers));
    testing::ChannelMeanEngine engine(/*runs_alone=*/true);
    PipelineOptions o = options(8, 1);
    o.image_workers = workers;
    const PipelineRun r = run(paths, engine, o);
    expect_numbered_rows(r, paths);
    EXPECT_EQ(engine.batch_sizes, std::vector<std::int64_t>(30, 1));
    // The workers run the model; the calling thread only hands rows on.
    EXPECT_LE(engine.image_threads.size(), static_cast<std::size_t>(workers));
    EXPECT_EQ(engine.image_threads.count(std::this_thread::get_id()), 0u);
  }
}

TEST(Pipeline, ImageWorkersNeedAnEngineThatRunsImagesAlone) {
  TempDir dir("pt2onnx-pipeline");
  const std::vector<std::string> paths = numbered_images(dir);
  testing::ChannelMeanEngine engine;  // batches only
  PipelineOptions o = options(8, 2);
  o.image_workers = 2;
  const PipelineRun r = run(paths, engine, o);
  expect_numbered_rows(r, paths);
  EXPECT_TRUE(engine.image_threads.empty());
  EXPECT_EQ(engine.batch_sizes.front(), 8);
}

TEST(Pipeline, EmptyInput) {
  testing::ChannelMeanEngine engine;
  const PipelineRun r = run({}, engine, options(4, 2));
  EXPECT_TRUE(r.results.empty());
  EXPECT_TRUE(engine.batch_sizes.empty());
}

std::optional<InputItem> next_of(const std::vector<std::string>& paths, std::size_t& next) {
  if (next >= paths.size()) return std::nullopt;
  return InputItem{paths[next++], {}};
}

TEST(Pipeline, EngineFailureStopsTheRunAndKeepsEarlierRows) {
  TempDir dir("pt2onnx-pipeline");
  std::vector<std::string> paths;
  for (int i = 0; i < 20; ++i) {
    const auto path = dir / (std::to_string(i) + ".png");
    testing::write_file(path, solid_png(static_cast<std::uint8_t>(i * 6), 2, 3));
    paths.push_back(path.string());
  }
  const float red_of_image_5 = 30.0f / 255.0f;
  const auto rows_before_failure = [&](testing::ChannelMeanEngine& engine, const PipelineOptions& o) {
    engine.throw_on_red(red_of_image_5);
    std::vector<std::int64_t> positions;
    std::size_t next = 0;
    EXPECT_THROW(run_pipeline([&] { return next_of(paths, next); }, engine, o,
                              [&](const ImageResult& r) { positions.push_back(r.position); }),
                 std::runtime_error);
    return positions;
  };
  {
    testing::ChannelMeanEngine engine;
    // Batches of four: the first makes it, the second holds image 5.
    EXPECT_EQ(rows_before_failure(engine, options(4, 2)), (std::vector<std::int64_t>{0, 1, 2, 3}));
  }
  for (int workers : {1, 2, 3}) {
    SCOPED_TRACE("workers " + std::to_string(workers));
    testing::ChannelMeanEngine engine(/*runs_alone=*/true);
    PipelineOptions o = options(4, 1);
    o.image_workers = workers;
    // Every image before the failing one gets its row, none after it.
    EXPECT_EQ(rows_before_failure(engine, o), (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  }
}

// A row that cannot be written (a full disk, say) stops the run: the error
// comes out of run_pipeline and every worker is stopped and joined, also
// while the input stream is slow to give the next path.
TEST(Pipeline, OutputFailureStopsTheRun) {
  TempDir dir("pt2onnx-pipeline");
  std::vector<std::string> paths;
  for (int i = 0; i < 12; ++i) {
    const auto path = dir / (std::to_string(i) + ".png");
    testing::write_file(path, solid_png(1, 2, 3));
    paths.push_back(path.string());
  }
  for (int workers : {0, 4}) {
    SCOPED_TRACE(std::to_string(workers) + " image workers");
    testing::ChannelMeanEngine engine(/*runs_alone=*/workers > 0);
    PipelineOptions o = options(2, 2);
    o.image_workers = workers;
    std::size_t next = 0;
    std::size_t rows = 0;
    EXPECT_THROW(run_pipeline(
                     [&] {
                       std::this_thread::sleep_for(std::chrono::milliseconds(5));
                       return next_of(paths, next);
                     },
                     engine, o,
                     [&](const ImageResult&) {
                       ++rows;
                       throw Error(ErrorKind::Io, "output: disk full");
                     }),
                 Error);
    EXPECT_EQ(rows, 1u);
  }
}

TEST(Pipeline, InputStreamFailureIsRethrownAfterTheRowsBeforeIt) {
  TempDir dir("pt2onnx-pipeline");
  testing::write_file(dir / "a.png", solid_png(1, 2, 3));
  for (int workers : {0, 2}) {
    testing::ChannelMeanEngine engine(/*runs_alone=*/workers > 0);
    PipelineOptions o = options(4, 2);
    o.image_workers = workers;
    int calls = 0;
    std::size_t rows = 0;
    EXPECT_THROW(run_pipeline(
                     [&]() -> std::optional<InputItem> {
                       if (calls++ == 0) return InputItem{(dir / "a.png").string(), {}};
                       throw Error(ErrorKind::Io, "list gone");
                     },
                     engine, o, [&](const ImageResult&) { ++rows; }),
                 Error);
    EXPECT_EQ(rows, 1u) << workers << " image workers";
  }
}

TEST(Pipeline, WrongPreprocessedSizeIsAnImageError) {
  TempDir dir("pt2onnx-pipeline");
  testing::write_file(dir / "a.png", solid_png(1, 2, 3, 8, 4));
  PipelineOptions o = options(2, 1);
  o.preprocess.resize.mode = vision::ResizeSpec::Mode::ShorterSide;
  o.preprocess.resize.shorter_side = 4;  // 8x4 -> 8x4, but the model takes 4x4
  testing::ChannelMeanEngine engine;
  const PipelineRun r = run({(dir / "a.png").string()}, engine, o);
  ASSERT_EQ(r.results.size(), 1u);
  EXPECT_NE(r.results[0].error.find("model takes 4x4"), std::string::npos) << r.results[0].error;
}

}  // namespace
}  // namespace pt2onnx::infer
