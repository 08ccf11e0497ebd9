// What `pt2onnx serve` does for a request, apart from the transport: the
// served models (each a Classifier, the same image-to-scores session `infer`
// and the C++ API use, with a dynamic batcher in front of its engine), the
// Open Inference Protocol's metadata, health and infer semantics, images in
// and scores out, and the metrics. The HTTP side (tools/pt2onnx/serve_http.cpp)
// maps these calls and their exceptions onto routes and status codes:
// Error(BadInput/Usage) 400, NotFound 404, TooLarge 413, Busy 503.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "pt2onnx/classify.h"
#include "serve/batcher.h"
#include "serve/metrics.h"
#include "serve/protocol.h"

namespace pt2onnx::serve {

class NotFound : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A request body over --max-request-mb.
class TooLarge : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How a request failed, whatever its transport; each transport turns the
// kind into its own status (HTTP 400, 404, 413, 503, 503, 500; gRPC
// INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED, UNAVAILABLE,
// RESOURCE_EXHAUSTED, INTERNAL).
enum class FailureKind { BadRequest, NotFound, TooLarge, Busy, Gone, OutOfMemory, Internal };
struct Failure {
  FailureKind kind = FailureKind::Internal;
  std::string message;
};
// The failure `error` describes: NotFound, TooLarge and Busy as themselves,
// Abandoned (the client went away) as Gone;
// an Error of kind BadInput, Usage or Io a bad request, of another kind
// internal; bad_alloc out of memory; anything else internal.
Failure failure_of(const std::exception_ptr& error);

struct ServeOptions {
  int threads = 0;             // the engine's; 0: the CPUs this process may use
  std::int64_t max_batch = 0;  // images per engine run; 0: kDefaultMaxBatch
  std::chrono::microseconds max_queue_delay{kDefaultQueueDelayUs};
  std::int64_t max_queue = 256;  // images waiting per model
  std::chrono::milliseconds timeout{30000};
  ScoreActivation activation = ScoreActivation::Sigmoid;  // for probabilities, unless a request names one
  Limits limits;

  // docs/serving.md, "Dynamic batching": the engine computes a batch one
  // image per thread, so a few images per thread keep every thread busy; and
  // no wait for company by default: a request arriving at an idle engine runs
  // at once, while the requests arriving during a run make the next batch.
  static constexpr std::int64_t kDefaultMaxBatch = 8;
  static constexpr std::int64_t kDefaultQueueDelayUs = 0;
};

// "NAME=PATH" or "PATH" (the name is the file's stem). Error(Usage) for a
// name that is empty or has characters other than letters, digits, '-', '_'
// and '.'.
struct ModelSpec {
  std::string name;
  std::filesystem::path path;
};
ModelSpec parse_model_spec(std::string_view argument);

// The names the extra outputs of an image model go by.
inline constexpr const char* kProbabilitiesOutput = "probabilities";
inline constexpr const char* kLabelsOutput = "labels";

class ServedModel {
 public:
  ServedModel(ModelSpec spec, const ServeOptions& options, Metrics& metrics);
  ServedModel(const ServedModel&) = delete;
  ServedModel& operator=(const ServedModel&) = delete;
  ~ServedModel();

  [[nodiscard]] const std::string& name() const { return spec_.name; }
  [[nodiscard]] static std::string version() { return "1"; }
  [[nodiscard]] bool ready() const { return ready_; }
  [[nodiscard]] const Classifier& classifier() const { return classifier_; }

  // One engine run on a blank image; the model is ready after it.
  void warm_up();

  // GET /v2/models/{name}: the protocol's model metadata.
  [[nodiscard]] nlohmann::json metadata() const;
  // The model card of the web page: labels, preprocessing, input size,
  // checkpoint, opset and producer, from the file and its metadata.
  [[nodiscard]] nlohmann::json card() const;

  // An infer request: one input, named as the model's, either FP32
  // [N, 3, H, W] or BYTES [N] (or [N, 1]) of encoded JPEG, PNG or DICOM
  // files, which get the model's recorded preprocessing. Returns the
  // requested outputs of: the model's (logits), "probabilities" (the
  // activation of request parameter "activation", else the server's) and
  // "labels". `gone` tells whether the client has gone away: a request that
  // still waits for the engine then leaves the queue (Abandoned).
  [[nodiscard]] std::vector<Tensor> infer(const InferRequest& request, const ClientGone& gone = {});

  // Encoded images to scores (the activation given, else the server's).
  [[nodiscard]] std::vector<Classification> classify(const std::vector<std::span<const std::uint8_t>>& images,
                                                     std::optional<ScoreActivation> activation,
                                                     const ClientGone& gone = {});

  // Refuses new requests and finishes the queued ones.
  void stop() { batcher_->stop(); }

  // Images waiting for the engine, and in its run now.
  [[nodiscard]] std::int64_t queued_images() const { return batcher_->queued_rows(); }
  [[nodiscard]] std::int64_t running_images() const { return batcher_->running_rows(); }

 private:
  // Logits of `rows` preprocessed images through the batcher.
  Rows run(std::vector<float> data, std::int64_t rows, const ClientGone& gone = {});
  // One batch through the engine, in pieces of run_sizes_.
  Rows run_engine(const pt2onnx::Tensor& batch);

  ModelSpec spec_;
  ServeOptions options_;
  Classifier classifier_;
  std::string producer_;
  std::int64_t opset_ = 0;
  // The batch sizes the engine runs, all warmed up at start: 1, 2, 4, ...
  // and the largest batch (a fixed-batch model: its one size).
  std::vector<std::int64_t> run_sizes_;
  std::unique_ptr<Batcher> batcher_;
  std::atomic<bool> ready_{false};  // set after warm_up's run, which the metrics do not count
};

class Service {
 public:
  // Loads every model (Error naming the file that fails) and warms each up.
  Service(const std::vector<ModelSpec>& models, ServeOptions options);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // nullptr for an unknown name or version.
  [[nodiscard]] ServedModel* find(const std::string& name, const std::string& version = "");
  // The same, throwing NotFound naming what exists.
  [[nodiscard]] ServedModel& get(const std::string& name, const std::string& version = "");
  [[nodiscard]] const std::vector<std::unique_ptr<ServedModel>>& models() const { return models_; }

  [[nodiscard]] nlohmann::json server_metadata() const;
  // Ready: every model loaded and run once, and not shutting down.
  [[nodiscard]] bool ready() const;
  [[nodiscard]] bool stopping() const { return stopping_; }
  // Readiness goes false and new model requests are refused (Busy); those
  // already queued still run.
  void begin_stop() { stopping_ = true; }
  // That, and the models' queues finish and their workers end.
  void stop();

  [[nodiscard]] Metrics& metrics() { return metrics_; }
  // GET /metrics: the metrics, and each model's queued and running images.
  [[nodiscard]] std::string prometheus() const;
  // One answered request in the metrics. A model that does not exist counts
  // under "": any client could otherwise grow the labels without bound.
  void count(const std::string& model, const std::string& endpoint, bool failed, double seconds);
  [[nodiscard]] const ServeOptions& options() const { return options_; }

 private:
  ServeOptions options_;
  Metrics metrics_;
  std::vector<std::unique_ptr<ServedModel>> models_;
  std::atomic<bool> stopping_{false};

  // The keeper thread gives the memory a burst of requests left free back to
  // the system once the server has answered nothing for a second (pt2onnx
  // keeps freed memory for reuse, so the server's RSS would otherwise stay
  // at the largest burst it ever met; docs/serving.md, "Memory").
  void keep_memory();
  void stop_keeper();
  std::atomic<std::uint64_t> answered_{0};
  std::mutex keeper_mutex_;
  std::condition_variable keeper_wake_;
  bool keeper_stopping_ = false;
  std::thread keeper_;
};

// "sigmoid", "softmax" or "none"; Error(BadInput) otherwise.
ScoreActivation score_activation_named(std::string_view name);

}  // namespace pt2onnx::serve
