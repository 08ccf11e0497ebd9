// `pt2onnx serve`'s metrics, written in Prometheus' text exposition format
// for GET /metrics: requests and failures per model and endpoint, latency,
// queue-time and batch-size histograms, images served (a counter, and a rate
// over the last 10 seconds), and the requests in flight. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "serve/batcher.h"

namespace pt2onnx::serve {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  // The _bucket, _sum and _count lines of `name` with `labels` ("model=\"a\"").
  void write(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;  // per bound, not cumulative; one more for +Inf
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

class Metrics {
 public:
  // One answered request; `model` is "" for a server-wide endpoint.
  void request(const std::string& model, const std::string& endpoint, bool failed, double seconds);
  // One engine run of a model's batcher.
  void batch(const std::string& model, const BatchReport& report);

  // Counts a request in flight for its lifetime.
  class InFlight {
   public:
    explicit InFlight(Metrics& metrics) : metrics_(metrics) { ++metrics_.in_flight_; }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;
    ~InFlight() { --metrics_.in_flight_; }

   private:
    Metrics& metrics_;
  };

  [[nodiscard]] std::int64_t in_flight() const { return in_flight_; }
  [[nodiscard]] std::string prometheus() const;

 private:
  struct Endpoint {
    std::uint64_t requests = 0;
    std::uint64_t failures = 0;
    Histogram latency{{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}};
  };
  struct Model {
    Histogram queue{{0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}};
    Histogram batch_size{{1, 2, 4, 8, 16, 32, 64, 128}};
    std::uint64_t images = 0;
    std::deque<std::pair<std::chrono::steady_clock::time_point, std::int64_t>> recent;  // last 10 s of runs
  };

  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, Endpoint> endpoints_;
  std::map<std::string, Model> models_;
  std::atomic<std::int64_t> in_flight_{0};
};

}  // namespace pt2onnx::serve
