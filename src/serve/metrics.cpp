#include "serve/metrics.h"

#include <algorithm>

#include <fmt/format.h>

namespace pt2onnx::serve {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::seconds kRateWindow{10};

// A label value with \, " and newline escaped, as the text format requires.
std::string label_value(const std::string& value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string model_label(const std::string& model) { return fmt::format("model=\"{}\"", label_value(model)); }

void drop_old(std::deque<std::pair<Clock::time_point, std::int64_t>>& recent, Clock::time_point now) {
  while (!recent.empty() && now - recent.front().first > kRateWindow) recent.pop_front();
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  const auto bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  ++counts_[static_cast<std::size_t>(bucket)];
  sum_ += value;
  ++count_;
}

void Histogram::write(std::string& out, const std::string& name, const std::string& labels) const {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, bounds_[i], cumulative);
  }
  out += fmt::format("{}_bucket{{{},le=\"+Inf\"}} {}\n", name, labels, count_);
  out += fmt::format("{}_sum{{{}}} {}\n", name, labels, sum_);
  out += fmt::format("{}_count{{{}}} {}\n", name, labels, count_);
}

void Metrics::request(const std::string& model, const std::string& endpoint, bool failed, double seconds) {
  const std::lock_guard lock(mutex_);
  auto& e = endpoints_[{model, endpoint}];
  ++e.requests;
  if (failed) ++e.failures;
  e.latency.observe(seconds);
}

void Metrics::batch(const std::string& model, const BatchReport& report) {
  const auto now = Clock::now();
  const std::lock_guard lock(mutex_);
  auto& m = models_[model];
  m.batch_size.observe(static_cast<double>(report.rows));
  for (const double q : report.queue_seconds) m.queue.observe(q);
  m.images += static_cast<std::uint64_t>(report.rows);
  m.recent.emplace_back(now, report.rows);
  drop_old(m.recent, now);
}

std::string Metrics::prometheus() const {
  const auto now = Clock::now();
  const std::lock_guard lock(mutex_);
  std::string out;
  const auto endpoint_labels = [](const std::pair<std::string, std::string>& key) {
    return fmt::format("{},endpoint=\"{}\"", model_label(key.first), label_value(key.second));
  };
  out += "# HELP pt2onnx_requests_total Requests answered, per model and endpoint.\n";
  out += "# TYPE pt2onnx_requests_total counter\n";
  for (const auto& [key, e] : endpoints_) {
    out += fmt::format("pt2onnx_requests_total{{{}}} {}\n", endpoint_labels(key), e.requests);
  }
  out += "# HELP pt2onnx_request_failures_total Requests answered with an error status (4xx or 5xx).\n";
  out += "# TYPE pt2onnx_request_failures_total counter\n";
  for (const auto& [key, e] : endpoints_) {
    out += fmt::format("pt2onnx_request_failures_total{{{}}} {}\n", endpoint_labels(key), e.failures);
  }
  out += "# HELP pt2onnx_request_duration_seconds Time from a request's arrival to its answer.\n";
  out += "# TYPE pt2onnx_request_duration_seconds histogram\n";
  for (const auto& [key, e] : endpoints_)
    e.latency.write(out, "pt2onnx_request_duration_seconds", endpoint_labels(key));
  out += "# HELP pt2onnx_queue_duration_seconds Time a request waited for its batch to start.\n";
  out += "# TYPE pt2onnx_queue_duration_seconds histogram\n";
  for (const auto& [name, m] : models_) m.queue.write(out, "pt2onnx_queue_duration_seconds", model_label(name));
  out += "# HELP pt2onnx_batch_size Images per engine run (dynamic batching).\n";
  out += "# TYPE pt2onnx_batch_size histogram\n";
  for (const auto& [name, m] : models_) m.batch_size.write(out, "pt2onnx_batch_size", model_label(name));
  out += "# HELP pt2onnx_images_total Images (batch rows) the engine has computed.\n";
  out += "# TYPE pt2onnx_images_total counter\n";
  for (const auto& [name, m] : models_)
    out += fmt::format("pt2onnx_images_total{{{}}} {}\n", model_label(name), m.images);
  out += "# HELP pt2onnx_images_per_second Images computed per second over the last 10 seconds.\n";
  out += "# TYPE pt2onnx_images_per_second gauge\n";
  for (const auto& [name, m] : models_) {
    std::int64_t images = 0;
    for (const auto& [at, rows] : m.recent) {
      if (now - at <= kRateWindow) images += rows;
    }
    out += fmt::format("pt2onnx_images_per_second{{{}}} {}\n", model_label(name),
                       static_cast<double>(images) / static_cast<double>(kRateWindow.count()));
  }
  out += "# HELP pt2onnx_requests_in_flight Requests received and not yet answered.\n";
  out += "# TYPE pt2onnx_requests_in_flight gauge\n";
  out += fmt::format("pt2onnx_requests_in_flight {}\n", in_flight_.load());
  return out;
}

}  // namespace pt2onnx::serve
