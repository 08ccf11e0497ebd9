// The serve batcher: concurrent requests merged into one run up to the
// batch size, each request handed its own rows; a full queue, a timeout and
// a stop refuse with Busy; a request whose client has gone leaves the queue
// (Abandoned) unless it already runs; an engine error reaches every request
// of its batch.
#include "serve/batcher.h"

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "pt2onnx/error.h"
#include "serve/metrics.h"
#include "serve/service.h"

namespace pt2onnx::serve {
namespace {

using namespace std::chrono_literals;

// An engine whose row i is {sum of the row's inputs, batch size}: a request
// can check both that its rows are its own and how it was batched. It can be
// held (the test decides when a run may finish) and made to fail.
struct FakeEngine {
  std::mutex mutex;
  std::vector<std::int64_t> batches;
  std::atomic<bool> fail{false};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> started{0};

  Rows run(const pt2onnx::Tensor& batch) {
    ++started;
    released.wait();
    if (fail) throw std::runtime_error("engine failed");
    const std::int64_t n = batch.dim(0);
    const auto values = batch.f32();
    const auto per_row = values.size() / static_cast<std::size_t>(n);
    Rows rows;
    for (std::int64_t i = 0; i < n; ++i) {
      float sum = 0;
      for (std::size_t j = 0; j < per_row; ++j) sum += values[static_cast<std::size_t>(i) * per_row + j];
      rows.push_back({sum, static_cast<float>(n)});
    }
    const std::lock_guard lock(mutex);
    batches.push_back(n);
    return rows;
  }
};

BatcherOptions options(std::int64_t max_batch, std::chrono::microseconds delay, std::int64_t max_queue = 256) {
  BatcherOptions o;
  o.max_batch = max_batch;
  o.max_delay = delay;
  o.max_queue_rows = max_queue;
  o.row_shape = {2};
  return o;
}

std::vector<float> rows_of(float value, std::int64_t rows) { return std::vector<float>(2 * rows, value); }

TEST(Batcher, ConcurrentRequestsShareRunsAndGetTheirOwnRows) {
  FakeEngine engine;
  engine.release.set_value();
  std::vector<BatchReport> reports;
  std::mutex reports_mutex;
  Batcher batcher(
      options(8, 200ms), [&](const pt2onnx::Tensor& b) { return engine.run(b); },
      [&](const BatchReport& r) {
        const std::lock_guard lock(reports_mutex);
        reports.push_back(r);
      });
  std::vector<std::future<Rows>> results;
  for (int i = 0; i < 8; ++i) {
    results.push_back(std::async(std::launch::async, [&, i] { return batcher.infer(rows_of(float(i), 1), 1, 0ms); }));
  }
  for (int i = 0; i < 8; ++i) {
    const Rows r = results[static_cast<std::size_t>(i)].get();
    ASSERT_EQ(r.size(), 1U);
    EXPECT_EQ(r[0][0], 2.0F * float(i));  // its own row: the sum of its two values
  }
  // Eight rows reach a batch of 8 long before the 200 ms delay: one run,
  // unless a thread started late; never more than 8 rows in a run.
  std::int64_t total = 0;
  for (const auto n : engine.batches) {
    EXPECT_LE(n, 8);
    total += n;
  }
  EXPECT_EQ(total, 8);
  EXPECT_LT(engine.batches.size(), 8U);
  ASSERT_EQ(reports.size(), engine.batches.size());
  EXPECT_EQ(reports[0].rows, engine.batches[0]);
  EXPECT_EQ(reports[0].queue_seconds.size(), static_cast<std::size_t>(reports[0].rows));
}

TEST(Batcher, ALargerRequestRunsAloneAndWhole) {
  FakeEngine engine;
  engine.release.set_value();
  Batcher batcher(options(4, 0us), [&](const pt2onnx::Tensor& b) { return engine.run(b); }, {});
  const Rows r = batcher.infer(rows_of(1.0F, 10), 10, 0ms);
  ASSERT_EQ(r.size(), 10U);
  EXPECT_EQ(r[9][1], 10.0F);
  EXPECT_EQ(engine.batches, std::vector<std::int64_t>{10});
}

TEST(Batcher, AFullQueueRefusesAtOnce) {
  FakeEngine engine;  // held: the first run does not finish until released
  Batcher batcher(options(1, 0us, 2), [&](const pt2onnx::Tensor& b) { return engine.run(b); }, {});
  auto running = std::async(std::launch::async, [&] { return batcher.infer(rows_of(1, 1), 1, 0ms); });
  while (engine.started == 0) std::this_thread::sleep_for(1ms);
  // The queue holds 2 rows while the first runs.
  auto queued = std::async(std::launch::async, [&] { return batcher.infer(rows_of(2, 2), 2, 0ms); });
  while (batcher.queued_rows() < 2) std::this_thread::sleep_for(1ms);
  try {
    (void)batcher.infer(rows_of(3, 1), 1, 0ms);
    ADD_FAILURE() << "a request beyond --max-queue was queued";
  } catch (const Busy& e) {
    EXPECT_NE(std::string(e.what()).find("queue is full"), std::string::npos) << e.what();
  }
  engine.release.set_value();
  EXPECT_EQ(running.get()[0][0], 2.0F);
  EXPECT_EQ(queued.get().size(), 2U);
}

TEST(Batcher, ATimedOutRequestIsDroppedBeforeItRuns) {
  FakeEngine engine;
  Batcher batcher(options(1, 0us), [&](const pt2onnx::Tensor& b) { return engine.run(b); }, {});
  auto running = std::async(std::launch::async, [&] { return batcher.infer(rows_of(1, 1), 1, 0ms); });
  while (engine.started == 0) std::this_thread::sleep_for(1ms);
  EXPECT_THROW((void)batcher.infer(rows_of(5, 3), 3, 20ms), Busy);
  EXPECT_EQ(batcher.queued_rows(), 0);
  engine.release.set_value();
  (void)running.get();
  batcher.stop();
  EXPECT_EQ(engine.batches, std::vector<std::int64_t>{1});  // the 3 rows never ran
}

TEST(Batcher, ARequestWhoseClientWentAwayLeavesTheQueueUnrun) {
  FakeEngine engine;
  Batcher batcher(options(8, 0us), [&](const pt2onnx::Tensor& b) { return engine.run(b); }, {});
  auto running = std::async(std::launch::async, [&] { return batcher.infer(rows_of(1, 1), 1, 0ms); });
  while (engine.started == 0) std::this_thread::sleep_for(1ms);
  // Queued behind the held run; its client leaves after a few polls.
  std::atomic<int> asked{0};
  const ClientGone gone = [&] { return ++asked >= 3; };
  const auto before = std::chrono::steady_clock::now();
  EXPECT_THROW((void)batcher.infer(rows_of(5, 2), 2, 0ms, gone), Abandoned);
  EXPECT_EQ(asked.load(), 3);
  EXPECT_GE(std::chrono::steady_clock::now() - before, 2 * Batcher::kGonePoll);
  EXPECT_EQ(batcher.queued_rows(), 0);
  // One still waiting, whose client stays, runs after it.
  auto staying =
      std::async(std::launch::async, [&] { return batcher.infer(rows_of(7, 1), 1, 0ms, [] { return false; }); });
  while (batcher.queued_rows() < 1) std::this_thread::sleep_for(1ms);
  engine.release.set_value();
  (void)running.get();
  EXPECT_EQ(staying.get()[0][0], 14.0F);
  batcher.stop();
  EXPECT_EQ(engine.batches, (std::vector<std::int64_t>{1, 1}));  // the 2 abandoned rows never ran
}

TEST(Batcher, ARunningRequestIsAnsweredThoughItsClientWentAway) {
  FakeEngine engine;
  Batcher batcher(options(8, 0us), [&](const pt2onnx::Tensor& b) { return engine.run(b); }, {});
  std::atomic<bool> left{false};
  auto running =
      std::async(std::launch::async, [&] { return batcher.infer(rows_of(3, 1), 1, 0ms, [&] { return left.load(); }); });
  while (engine.started == 0) std::this_thread::sleep_for(1ms);
  left = true;  // too late: it runs already
  std::this_thread::sleep_for(3 * Batcher::kGonePoll);
  engine.release.set_value();
  EXPECT_EQ(running.get()[0][0], 6.0F);
}

TEST(Batcher, AnEngineErrorReachesEveryRequestOfItsBatch) {
  FakeEngine engine;
  engine.fail = true;
  engine.release.set_value();
  Batcher batcher(options(4, 100ms), [&](const pt2onnx::Tensor& b) { return engine.run(b); }, {});
  auto a = std::async(std::launch::async, [&] { return batcher.infer(rows_of(1, 2), 2, 0ms); });
  auto b = std::async(std::launch::async, [&] { return batcher.infer(rows_of(1, 2), 2, 0ms); });
  EXPECT_THROW((void)a.get(), std::runtime_error);
  EXPECT_THROW((void)b.get(), std::runtime_error);
}

TEST(Batcher, StopRunsWhatIsQueuedAndRefusesTheRest) {
  FakeEngine engine;
  Batcher batcher(options(1, 0us), [&](const pt2onnx::Tensor& b) { return engine.run(b); }, {});
  auto first = std::async(std::launch::async, [&] { return batcher.infer(rows_of(1, 1), 1, 0ms); });
  while (engine.started == 0) std::this_thread::sleep_for(1ms);
  auto second = std::async(std::launch::async, [&] { return batcher.infer(rows_of(2, 1), 1, 0ms); });
  while (batcher.queued_rows() < 1) std::this_thread::sleep_for(1ms);
  auto stopping = std::async(std::launch::async, [&] { batcher.stop(); });
  engine.release.set_value();
  stopping.get();
  EXPECT_EQ(first.get()[0][0], 2.0F);
  EXPECT_EQ(second.get()[0][0], 4.0F);
  EXPECT_THROW((void)batcher.infer(rows_of(3, 1), 1, 0ms), Busy);
}

TEST(Batcher, RefusesDataThatIsNotItsRows) {
  FakeEngine engine;
  engine.release.set_value();
  Batcher batcher(options(4, 0us), [&](const pt2onnx::Tensor& b) { return engine.run(b); }, {});
  EXPECT_THROW((void)batcher.infer(std::vector<float>(3), 1, 0ms), std::invalid_argument);
  EXPECT_THROW((void)batcher.infer({}, 0, 0ms), std::invalid_argument);
}

TEST(Metrics, PrometheusTextHasCumulativeBucketsAndEscapedLabels) {
  Metrics m;
  m.request("a\"b", "infer", false, 0.003);
  m.request("a\"b", "infer", true, 0.2);
  BatchReport report;
  report.rows = 3;
  report.queue_seconds = {0.0002, 0.004};
  m.batch("a\"b", report);
  const std::string text = m.prometheus();
  EXPECT_NE(text.find("pt2onnx_requests_total{model=\"a\\\"b\",endpoint=\"infer\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("pt2onnx_request_failures_total{model=\"a\\\"b\",endpoint=\"infer\"} 1\n"), std::string::npos);
  // 0.003 is within le=0.005 and everything above; 0.2 only from le=0.25.
  EXPECT_NE(text.find("endpoint=\"infer\",le=\"0.0025\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("endpoint=\"infer\",le=\"0.005\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("endpoint=\"infer\",le=\"0.1\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("endpoint=\"infer\",le=\"0.25\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("endpoint=\"infer\",le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("pt2onnx_batch_size_bucket{model=\"a\\\"b\",le=\"2\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("pt2onnx_batch_size_bucket{model=\"a\\\"b\",le=\"4\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("pt2onnx_images_total{model=\"a\\\"b\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("pt2onnx_queue_duration_seconds_count{model=\"a\\\"b\"} 2\n"), std::string::npos);
  {
    const Metrics::InFlight one(m);
    EXPECT_NE(m.prometheus().find("pt2onnx_requests_in_flight 1\n"), std::string::npos);
  }
  EXPECT_NE(m.prometheus().find("pt2onnx_requests_in_flight 0\n"), std::string::npos);
}

TEST(ModelSpec, NamesComeFromTheFileOrAreGiven) {
  EXPECT_EQ(parse_model_spec("models/chest-xray.v2.onnx").name, "chest-xray.v2");
  const auto given = parse_model_spec("triage=/srv/m/model.onnx");
  EXPECT_EQ(given.name, "triage");
  EXPECT_EQ(given.path, "/srv/m/model.onnx");
  for (const char* bad : {"=m.onnx", "a b=m.onnx", "x/y=m.onnx", "name="}) {
    EXPECT_THROW((void)parse_model_spec(bad), Error) << bad;
  }
}

}  // namespace
}  // namespace pt2onnx::serve
