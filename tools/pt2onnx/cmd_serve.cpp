// pt2onnx serve MODEL.onnx [NAME=MORE.onnx ...]
// Serves models over HTTP on the Open Inference Protocol (KServe v2, as
// Triton implements it), with dynamic batching, images in and scores out,
// Prometheus metrics and a web page. Runs until SIGINT or SIGTERM, then
// answers what is in flight and exits 0 (docs/serving.md).
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common/cpu_budget.h"
#include "common/startup_environment.h"
#include "serve/service.h"
#include "serve_grpc.h"
#include "serve_http.h"
#include "shared_options.h"

namespace pt2onnx::cli {
namespace {

struct ServeArgs {
  std::vector<std::string> models;
  std::string host = "127.0.0.1";
  int http_port = 8000;
  int grpc_port = 8001;
  int threads = 0;
  int http_threads = 64;
  std::int64_t max_batch = serve::ServeOptions::kDefaultMaxBatch;
  double max_queue_delay_ms = static_cast<double>(serve::ServeOptions::kDefaultQueueDelayUs) / 1000.0;
  std::int64_t max_queue = 256;
  double max_request_mb = 64;
  std::int64_t timeout_ms = 30000;
  std::string activation = "sigmoid";
};

using Clock = std::chrono::steady_clock;

// Waits for SIGINT or SIGTERM (blocked in every thread, so delivered here
// alone). The first stops the server gracefully: readiness turns false, new
// model requests are answered 503, those in flight are answered, then the
// listeners close. A second one ends the process at once.
void wait_for_signals(const sigset_t& signals, serve::Service& service, std::chrono::milliseconds grace,
                      const std::atomic<bool>& done, const std::function<void()>& close_listeners) {
  int stops = 0;
  while (!done) {
    timespec tick{0, 100'000'000};
    const int signal = sigtimedwait(&signals, nullptr, &tick);
    if (signal < 0) continue;
    if (++stops > 1) {
      log_line(nlohmann::json{{"event", "stop"}, {"signal", signal}, {"graceful", false}}.dump());
      _exit(1);
    }
    log_line(nlohmann::json{{"event", "stopping"}, {"signal", signal}}.dump());
    service.begin_stop();
    // In-flight model requests finish (each has --timeout-ms at most).
    const auto deadline = Clock::now() + grace;
    while (service.metrics().in_flight() > 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    close_listeners();
  }
}

int serve_models(const ServeArgs& args) {
  const auto started = Clock::now();
  // Before any thread starts (the engine's among them): SIGINT and SIGTERM
  // go to the signal thread alone, and a client gone mid-answer is an
  // error on its socket, not SIGPIPE.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  // Each connection holds a descriptor: take the hard limit (often 1024 soft).
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  // glibc gives threads up to 8 malloc arenas per CPU, and each arena keeps
  // the request bodies it freed (pt2onnx keeps freed memory for reuse,
  // common/startup_environment.h): the memory grew with every arena that a
  // large body reached. One arena, which the service's keeper trims after a
  // quiet second (malloc_trim gives back the top of the main arena only),
  // stays flat (docs/serving.md, "Memory"). A user's own GLIBC_TUNABLES is
  // left as it is.
  if (malloc_setting().source != SettingSource::User) ::mallopt(M_ARENA_MAX, 1);

  serve::ServeOptions options;
  options.threads = args.threads;
  options.max_batch = args.max_batch;
  options.max_queue_delay = std::chrono::microseconds(static_cast<std::int64_t>(args.max_queue_delay_ms * 1000.0));
  options.max_queue = args.max_queue;
  options.timeout = std::chrono::milliseconds(args.timeout_ms);
  options.activation = serve::score_activation_named(args.activation);
  std::vector<serve::ModelSpec> specs;
  for (const auto& m : args.models) specs.push_back(serve::parse_model_spec(m));
  serve::Service service(specs, options);

  HttpOptions http;
  http.max_request_bytes = static_cast<std::size_t>(args.max_request_mb * 1024.0 * 1024.0);
  http.threads = args.http_threads;
  auto server = make_http_server(service, http);
  int port = args.http_port;
  if (port == 0) {
    port = server->bind_to_any_port(args.host);
  } else if (!server->bind_to_port(args.host, port)) {
    port = -1;
  }
  if (port < 0) {
    throw_error(ErrorKind::Usage, fmt::format("cannot listen on {}:{} (in use, or not an address of this machine)",
                                              args.host, args.http_port));
  }
  server->raise_backlog();
  // gRPC: --grpc-port 0 turns it off, -1 takes a free port.
  std::unique_ptr<GrpcServer> grpc;
  if (args.grpc_port != 0) {
    grpc = start_grpc_server(service, args.host, std::max(0, args.grpc_port), http.max_request_bytes);
  }
  nlohmann::json models = nlohmann::json::array();
  for (const auto& m : service.models()) models.push_back(m->name());
  nlohmann::json listening{{"event", "listening"},
                           {"http", fmt::format("http://{}:{}", args.host, port)},
                           {"port", port},
                           {"models", models},
                           {"startup_ms", std::chrono::duration<double, std::milli>(Clock::now() - started).count()}};
  if (grpc) {
    listening["grpc"] = fmt::format("{}:{}", args.host, grpc->port);
    listening["grpc_port"] = grpc->port;
  }
  log_line(listening.dump());

  std::atomic<bool> done{false};
  const std::chrono::milliseconds grace(args.timeout_ms);
  std::thread signal_thread([&] {
    wait_for_signals(signals, service, grace, done, [&] {
      server->stop();
      if (grpc) grpc->stop(grace);
    });
  });
  const bool listened = server->listen_after_bind();
  done = true;
  signal_thread.join();
  service.stop();
  if (!listened && !service.stopping()) throw_error(ErrorKind::Internal, "the HTTP listener stopped by itself");
  log_line(nlohmann::json{{"event", "stopped"}}.dump());
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand(
      "serve",
      "Serve models over HTTP on the Open Inference Protocol (KServe v2 / Triton): tensors or encoded images in, "
      "logits and probabilities out, with dynamic batching, Prometheus metrics at /metrics and a web page at /.");
  cmd->add_option("models", args->models,
                  "ONNX models to serve, each as PATH (named after the file: resnet.onnx is 'resnet') or NAME=PATH")
      ->required()
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            const auto eq = text.find('=');
            const std::string path = eq == std::string::npos ? text : text.substr(eq + 1);
            return std::filesystem::is_regular_file(path) ? "" : "no model file " + path;
          },
          "NAME=PATH"));
  cmd->add_option("--host", args->host, "Address to listen on (0.0.0.0: every interface)")->capture_default_str();
  cmd->add_option("--http-port", args->http_port, "HTTP port; 0 picks a free one (logged at start)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--grpc-port", args->grpc_port,
                  "gRPC port (inference.GRPCInferenceService); 0 turns gRPC off, -1 picks a free one (logged at start)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 65535));
  add_threads_option(*cmd, args->threads,
                     "Threads for the engine of each model (0: the CPUs this process may use, "
                     "affinity and cgroup limit included)");
  cmd->add_option("--http-threads", args->http_threads, "Connections served at once; more wait for one to finish")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--max-batch", args->max_batch,
                  "Most images merged into one engine run from concurrent requests (a model with a fixed batch "
                  "uses that batch)")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{4096}));
  cmd->add_option("--max-queue-delay-ms", args->max_queue_delay_ms,
                  "Longest a request waits for others to share its engine run")
      ->capture_default_str()
      ->check(finite_in(0, 10000));
  cmd->add_option("--max-queue", args->max_queue,
                  "Most images waiting per model; a request beyond it is answered 503 at once")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 20));
  cmd->add_option("--max-request-mb", args->max_request_mb, "Largest request body in MiB; a larger one is answered 413")
      ->capture_default_str()
      ->check(finite_in(0.001, 4096));
  cmd->add_option("--timeout-ms", args->timeout_ms,
                  "Longest a request waits for its answer (queue and engine) before a 503; also the grace a "
                  "stop gives requests in flight")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{3'600'000}));
  cmd->add_option("--activation", args->activation,
                  "How probabilities are made from logits unless a request names one: sigmoid (one score per "
                  "label), softmax or none")
      ->capture_default_str()
      ->check(CLI::IsMember({"sigmoid", "softmax", "none"}));
  cmd->footer(
      "Routes: GET /v2/health/live, /v2/health/ready, /v2, /v2/models/NAME[/versions/1][/ready], /metrics, / (web "
      "page); POST /v2/models/NAME/infer (JSON or binary tensor data; FP32 [N,3,H,W] or BYTES images) and "
      "/v2/models/NAME/classify (an image as the body or a form file). Errors are {\"error\": ...} with 400, 404, "
      "413 or 503. See docs/serving.md.");
  cmd->callback([&action, args] { action = [args] { return serve_models(*args); }; });
}

}  // namespace pt2onnx::cli
