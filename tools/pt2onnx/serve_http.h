// `pt2onnx serve`'s HTTP side: the Open Inference Protocol's REST routes,
// POST /v2/models/{name}/classify, GET /metrics and the web page, on
// cpp-httplib (Debian's libcpp-httplib-dev; docs/serving.md says why), all
// calling into serve::Service.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "serve/service.h"

#include <httplib.h>

namespace pt2onnx::cli {

struct HttpOptions {
  std::size_t max_request_bytes = std::size_t{64} << 20;
  int threads = 64;  // connections served at once; more wait for a thread
};

// cpp-httplib's server, with the listening socket's backlog raised: Debian's
// build listens with a backlog of 5, so a burst of new connections overflows
// it and the kernel drops their SYNs, which the clients resend only after a
// second (and some give up).
class HttpServer : public httplib::Server {
 public:
  // After bind_to_port or bind_to_any_port, before listen_after_bind.
  void raise_backlog();
};

// A server with every route, not yet listening. Each request is logged as one
// JSON line on standard error and counted in the service's metrics.
std::unique_ptr<HttpServer> make_http_server(serve::Service& service, const HttpOptions& options);

// One JSON line on standard error, whole (requests log from many threads).
void log_line(const std::string& json_text);

}  // namespace pt2onnx::cli
