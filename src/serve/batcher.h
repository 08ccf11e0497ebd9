// Dynamic batching for `pt2onnx serve`: requests arriving at the same time
// are merged into one engine run. A request brings its rows (preprocessed
// images, float32 [rows, 3, H, W]); one worker thread per model takes the
// oldest request, adds the next ones while the batch has room and the oldest
// has waited less than the delay, runs the batch, and hands each request its
// rows of logits. A request larger than the batch runs alone.
//
// The queue is bounded in rows: a request that would overfill it is refused at
// once (Busy), so a flood of clients costs a 503, not memory. A request whose
// caller stopped waiting (its timeout, a shutdown) or whose client went away
// is dropped before it runs.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "pt2onnx/tensor.h"

namespace pt2onnx::serve {

using Rows = std::vector<std::vector<float>>;

// Why a request was not run: the queue was full, the server is stopping, or
// the request waited longer than its timeout. Answered 503.
class Busy : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Why a request was not run: its client went away while it waited.
class Abandoned : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Whether the client of a request has gone (closed its connection, cancelled
// its call). Called from the waiting request's own thread.
using ClientGone = std::function<bool()>;

struct BatcherOptions {
  std::int64_t max_batch = 8;  // rows per engine run
  std::chrono::microseconds max_delay{2000};
  std::int64_t max_queue_rows = 256;
  Shape row_shape;  // one row's shape, {3, H, W}
};

// What one engine run did, for the metrics.
struct BatchReport {
  std::int64_t rows = 0;
  std::vector<double> queue_seconds;  // per request in the batch
  double run_seconds = 0;
};

class Batcher {
 public:
  // `run` computes a float32 [N, ...row_shape] batch and returns its N rows;
  // it is called from the batcher's own thread. `report` (may be empty) is
  // told of every run that succeeds, on that thread, before its requests are
  // answered.
  Batcher(BatcherOptions options, std::function<Rows(const pt2onnx::Tensor&)> run,
          std::function<void(const BatchReport&)> report);
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;
  ~Batcher();  // stop()

  // Queues `rows` rows (rows * row size floats in `data`) and waits for their
  // logits, at most `timeout` (zero: no limit). Throws Busy when the queue is
  // full, the batcher is stopping or the timeout passes; rethrows the
  // engine's error for a failed run (every request of that batch gets it).
  // While the request waits in the queue, `gone` (may be empty) is asked
  // after kGonePoll, then at intervals doubling up to kLongestGonePoll (a
  // long queue does not wake every waiter a hundred times a second); once it
  // says yes the request leaves the queue and Abandoned is thrown. A request
  // already running is waited for.
  Rows infer(std::vector<float> data, std::int64_t rows, std::chrono::milliseconds timeout,
             const ClientGone& gone = {});

  static constexpr std::chrono::milliseconds kGonePoll{10};
  static constexpr std::chrono::milliseconds kLongestGonePoll{80};

  // Refuses new requests, runs those already queued, and joins the worker.
  void stop();

  [[nodiscard]] std::int64_t queued_rows() const;
  // Rows in the engine run now (0 between runs).
  [[nodiscard]] std::int64_t running_rows() const { return running_rows_; }
  [[nodiscard]] const BatcherOptions& options() const { return options_; }

 private:
  struct Request {
    std::vector<float> data;
    std::int64_t rows = 0;
    std::chrono::steady_clock::time_point queued;
    std::promise<Rows> result;
  };

  void work();
  // The requests of the next batch, taken from the queue (under `lock`).
  std::vector<std::shared_ptr<Request>> next_batch(std::unique_lock<std::mutex>& lock);
  void run_batch(const std::vector<std::shared_ptr<Request>>& batch);
  // Takes `request` out of the queue; false when it is no longer there
  // (running or done).
  bool withdraw(const std::shared_ptr<Request>& request);

  BatcherOptions options_;
  std::int64_t row_floats_ = 0;
  std::function<Rows(const pt2onnx::Tensor&)> run_;
  std::function<void(const BatchReport&)> report_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Request>> queue_;
  std::int64_t queued_rows_ = 0;
  std::atomic<std::int64_t> running_rows_{0};
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace pt2onnx::serve
