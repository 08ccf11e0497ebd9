#include "serve/batcher.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace pt2onnx::serve {

namespace {
using Clock = std::chrono::steady_clock;
}

Batcher::Batcher(BatcherOptions options, std::function<Rows(const pt2onnx::Tensor&)> run,
                 std::function<void(const BatchReport&)> report)
    : options_(std::move(options)), run_(std::move(run)), report_(std::move(report)) {
  options_.max_batch = std::max<std::int64_t>(1, options_.max_batch);
  row_floats_ = 1;
  for (const auto d : options_.row_shape) row_floats_ *= d;
  worker_ = std::thread([this] { work(); });
}

Batcher::~Batcher() { stop(); }

void Batcher::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

std::int64_t Batcher::queued_rows() const {
  const std::lock_guard lock(mutex_);
  return queued_rows_;
}

Rows Batcher::infer(std::vector<float> data, std::int64_t rows, std::chrono::milliseconds timeout,
                    const ClientGone& gone) {
  if (rows < 1 || static_cast<std::int64_t>(data.size()) != rows * row_floats_) {
    throw std::invalid_argument(fmt::format("{} floats for {} rows of {}", data.size(), rows, row_floats_));
  }
  auto request = std::make_shared<Request>();
  request->rows = rows;
  request->data = std::move(data);
  auto result = request->result.get_future();
  {
    const std::lock_guard lock(mutex_);
    if (stopping_) throw Busy("the server is shutting down");
    // An empty queue takes any request, so one larger than the queue still runs.
    if (queued_rows_ > 0 && queued_rows_ + rows > options_.max_queue_rows) {
      throw Busy(
          fmt::format("the queue is full ({} images waiting, --max-queue {})", queued_rows_, options_.max_queue_rows));
    }
    request->queued = Clock::now();
    queue_.push_back(request);
    queued_rows_ += rows;
  }
  wake_.notify_one();
  const auto deadline = timeout.count() > 0 ? request->queued + timeout : Clock::time_point::max();
  bool watching = static_cast<bool>(gone);  // until the client is gone or the request runs
  auto poll = std::chrono::duration_cast<Clock::duration>(kGonePoll);
  for (;;) {
    const auto until = watching ? std::min(deadline, Clock::now() + poll) : deadline;
    poll = std::min<Clock::duration>(2 * poll, kLongestGonePoll);
    if (result.wait_until(until) == std::future_status::ready) return result.get();
    if (Clock::now() >= deadline) {
      // Still queued: dropped. Already running: its result is thrown away.
      withdraw(request);
      throw Busy(fmt::format("no answer within --timeout-ms {}", timeout.count()));
    }
    if (watching && gone()) {
      if (withdraw(request)) throw Abandoned("the client went away before its request ran");
      watching = false;  // running: its answer comes, and the transport finds no one to take it
    }
  }
}

bool Batcher::withdraw(const std::shared_ptr<Request>& request) {
  const std::lock_guard lock(mutex_);
  const auto it = std::find(queue_.begin(), queue_.end(), request);
  if (it == queue_.end()) return false;
  queue_.erase(it);
  queued_rows_ -= request->rows;
  return true;
}

void Batcher::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything queued has run
    const auto batch = next_batch(lock);
    if (batch.empty()) continue;
    std::int64_t rows = 0;
    for (const auto& r : batch) rows += r->rows;
    running_rows_ = rows;
    lock.unlock();
    run_batch(batch);
    running_rows_ = 0;
    lock.lock();
  }
}

std::vector<std::shared_ptr<Batcher::Request>> Batcher::next_batch(std::unique_lock<std::mutex>& lock) {
  // Wait for company while the oldest request may still wait and the batch
  // has room; a stop runs what is there at once.
  const auto deadline = queue_.front()->queued + options_.max_delay;
  while (!stopping_ && !queue_.empty() && queued_rows_ < options_.max_batch) {
    if (wake_.wait_until(lock, deadline) == std::cv_status::timeout) break;
  }
  std::vector<std::shared_ptr<Request>> batch;
  std::int64_t rows = 0;
  while (!queue_.empty()) {
    const auto& next = queue_.front();
    if (!batch.empty() && rows + next->rows > options_.max_batch) break;
    rows += next->rows;
    queued_rows_ -= next->rows;
    batch.push_back(next);
    queue_.pop_front();
  }
  return batch;
}

void Batcher::run_batch(const std::vector<std::shared_ptr<Request>>& batch) {
  const auto started = Clock::now();
  BatchReport report;
  for (const auto& r : batch) {
    report.rows += r->rows;
    report.queue_seconds.push_back(std::chrono::duration<double>(started - r->queued).count());
  }
  try {
    Shape shape{report.rows};
    shape.insert(shape.end(), options_.row_shape.begin(), options_.row_shape.end());
    pt2onnx::Tensor input(DType::Float32, shape);
    auto out = input.f32();
    std::size_t offset = 0;
    for (const auto& r : batch) {
      std::memcpy(out.data() + offset, r->data.data(), r->data.size() * sizeof(float));
      offset += r->data.size();
    }
    Rows rows = run_(input);
    if (static_cast<std::int64_t>(rows.size()) != report.rows) {
      throw std::runtime_error(fmt::format("the engine returned {} rows for {}", rows.size(), report.rows));
    }
    std::vector<Rows> split(batch.size());
    auto next = rows.begin();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto end = next + static_cast<std::ptrdiff_t>(batch[i]->rows);
      split[i].assign(std::make_move_iterator(next), std::make_move_iterator(end));
      next = end;
    }
    // Reported before anyone is answered: a client that reads the metrics
    // after its answer finds its run counted.
    report.run_seconds = std::chrono::duration<double>(Clock::now() - started).count();
    if (report_) report_(report);
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i]->result.set_value(std::move(split[i]));
  } catch (...) {
    for (const auto& r : batch) r->result.set_exception(std::current_exception());
  }
}

}  // namespace pt2onnx::serve
