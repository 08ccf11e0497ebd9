#include "serve_http.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <regex>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "pt2onnx/error.h"
#include "serve/protocol.h"
#include "serve/web_page.h"

namespace pt2onnx::cli {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kJson = "application/json";
constexpr const char* kBinaryHeader = "Inference-Header-Content-Length";

// What the request being served on this thread is, for its log line and
// metrics: set when it arrives and as its route is known. httplib serves a
// request from arrival to answer on one thread.
struct RequestLog {
  Clock::time_point start = Clock::now();
  std::string model;
  std::string endpoint = "other";
  std::string error;
  std::size_t request_bytes = 0;  // a body read through a content reader, which req.body does not hold
};
thread_local RequestLog g_request;

// Answered to a request whose client went away before it ran (as nginx
// logs it); nobody reads it, the log line and metrics do.
constexpr int kClientClosed = 499;

// The address pair of a socket: its peer's address and port, and its own port.
struct Endpoints {
  std::string peer;
  int peer_port = -1;
  int local_port = -1;
};

std::optional<Endpoints> endpoints_of(int fd) {
  sockaddr_storage peer{};
  sockaddr_storage local{};
  socklen_t peer_len = sizeof peer;
  socklen_t local_len = sizeof local;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) {
    return std::nullopt;
  }
  const auto port = [](const sockaddr_storage& a) {
    if (a.ss_family == AF_INET) return static_cast<int>(ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port));
    if (a.ss_family == AF_INET6) return static_cast<int>(ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port));
    return -1;
  };
  std::array<char, INET6_ADDRSTRLEN> text{};
  const void* address = peer.ss_family == AF_INET6
                            ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6&>(peer).sin6_addr)
                            : static_cast<const void*>(&reinterpret_cast<const sockaddr_in&>(peer).sin_addr);
  if (::inet_ntop(peer.ss_family, address, text.data(), text.size()) == nullptr) return std::nullopt;
  return Endpoints{text.data(), port(peer), port(local)};
}

bool same_connection(const std::optional<Endpoints>& e, const httplib::Request& req) {
  return e && e->peer_port == req.remote_port && e->local_port == req.local_port && e->peer == req.remote_addr;
}

// The socket of the connection `req` came on. httplib serves a connection on
// one thread from accept to close but gives its handlers no socket, so it is
// found once among the process's descriptors by its address pair (unique
// among TCP connections) and remembered for the connection's later requests.
// -1 when not found (no /proc).
int connection_socket(const httplib::Request& req) {
  thread_local int cached = -1;
  if (cached >= 0 && same_connection(endpoints_of(cached), req)) return cached;
  cached = -1;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  while (const dirent* entry = ::readdir(dir)) {
    int fd = -1;
    const std::string_view name = entry->d_name;
    const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), fd);
    if (ec != std::errc() || end != name.data() + name.size()) continue;
    if (same_connection(endpoints_of(fd), req)) {
      cached = fd;
      break;
    }
  }
  ::closedir(dir);
  return cached;
}

// Whether the client of `req` has closed its connection (or it broke): a
// peek finds the end of the stream or an error. Pipelined bytes of its next
// request mean it is still there.
serve::ClientGone client_gone(const httplib::Request& req) {
  const int fd = connection_socket(req);
  if (fd < 0) return {};
  return [fd] {
    char byte = 0;
    const auto n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
  };
}

void set_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  g_request.error = message;
  res.set_content(json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace), kJson);
}

void set_json(httplib::Response& res, const json& body, int status = 200) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), kJson);
}

int http_status(serve::FailureKind kind) {
  switch (kind) {
    case serve::FailureKind::BadRequest:
      return 400;
    case serve::FailureKind::NotFound:
      return 404;
    case serve::FailureKind::TooLarge:
      return 413;
    case serve::FailureKind::Busy:
    case serve::FailureKind::OutOfMemory:
      return 503;
    case serve::FailureKind::Gone:
      return kClientClosed;
    case serve::FailureKind::Internal:
      break;
  }
  return 500;
}

// Runs a model route's work, turning its exceptions into the protocol's
// status codes, and counts it in the metrics.
template <typename Fn>
void model_route(serve::Service& service, const std::string& endpoint, const std::string& model, httplib::Response& res,
                 Fn&& fn) {
  g_request.endpoint = endpoint;
  g_request.model = model;
  const serve::Metrics::InFlight in_flight(service.metrics());
  try {
    fn();
  } catch (...) {
    const serve::Failure failure = serve::failure_of(std::current_exception());
    set_error(res, http_status(failure.kind), failure.message);
  }
  service.count(model, endpoint, res.status >= 400,
                std::chrono::duration<double>(Clock::now() - g_request.start).count());
}

// The model name and version of a /v2/models/{name}[/versions/{v}]... route.
struct ModelRef {
  std::string name;
  std::string version;  // "" when the route names none
};
ModelRef model_ref(const httplib::Request& req) {
  return {req.matches[1].str(), req.matches.size() > 2 ? req.matches[2].str() : std::string()};
}

// A request body read through httplib's content reader: read whole the same
// way whatever its Content-Type says (a client posting an image with curl's
// --data-binary sends application/x-www-form-urlencoded, which httplib would
// otherwise parse as a form and refuse beyond 8 KiB). A multipart form's
// parts are kept apart.
struct Body {
  std::string bytes;
  std::vector<httplib::MultipartFormData> parts;
};

Body read_body(const httplib::Request& req, const httplib::ContentReader& reader, std::size_t max_bytes) {
  const auto too_large = [&] {
    return serve::TooLarge(fmt::format("the request body is over --max-request-mb ({} MiB)",
                                       static_cast<double>(max_bytes) / (1024.0 * 1024.0)));
  };
  if (req.has_header("Content-Length") && req.get_header_value<std::uint64_t>("Content-Length") > max_bytes)
    throw too_large();
  Body body;
  if (req.has_header("Content-Length")) body.bytes.reserve(req.get_header_value<std::uint64_t>("Content-Length"));
  std::size_t total = 0;
  const auto room = [&](std::size_t size) {
    total += size;
    return total <= max_bytes;
  };
  if (req.is_multipart_form_data()) {
    reader(
        [&](const httplib::MultipartFormData& part) {
          body.parts.push_back(part);
          return true;
        },
        [&](const char* data, std::size_t size) {
          if (!room(size) || body.parts.empty()) return false;
          body.parts.back().content.append(data, size);
          return true;
        });
  } else {
    reader([&](const char* data, std::size_t size) {
      if (!room(size)) return false;
      body.bytes.append(data, size);
      return true;
    });
  }
  if (total > max_bytes) throw too_large();
  g_request.request_bytes = body.bytes.size();
  for (const auto& part : body.parts) g_request.request_bytes += part.content.size();
  return body;
}

void infer_route(serve::Service& service, const httplib::Request& req, httplib::Response& res,
                 const httplib::ContentReader& reader, std::size_t max_bytes) {
  const ModelRef ref = model_ref(req);
  const std::string& name = ref.name;
  const std::string& version = ref.version;
  model_route(service, "infer", name, res, [&] {
    const Body body = read_body(req, reader, max_bytes);
    auto& model = service.get(name, version);
    if (service.stopping()) throw serve::Busy("the server is shutting down");
    std::optional<std::size_t> json_length;
    if (req.has_header(kBinaryHeader)) {
      const std::string text = req.get_header_value(kBinaryHeader);
      std::size_t length = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), length);
      if (ec != std::errc() || end != text.data() + text.size()) {
        throw Error(ErrorKind::BadInput, fmt::format("{} header '{}' is not a byte count", kBinaryHeader, text));
      }
      json_length = length;
    }
    const auto request = serve::parse_infer_request(body.bytes, json_length, service.options().limits);
    const auto outputs = model.infer(request, client_gone(req));
    const auto response = serve::format_infer_response(model.name(), serve::ServedModel::version(), request, outputs);
    if (response.json_length) {
      res.set_header(kBinaryHeader, std::to_string(*response.json_length));
      res.set_content(response.body, "application/octet-stream");
    } else {
      res.set_content(response.body, kJson);
    }
    res.status = 200;
  });
}

void classify_route(serve::Service& service, const httplib::Request& req, httplib::Response& res,
                    const httplib::ContentReader& reader, std::size_t max_bytes) {
  const ModelRef ref = model_ref(req);
  const std::string& name = ref.name;
  const std::string& version = ref.version;
  model_route(service, "classify", name, res, [&] {
    const Body body = read_body(req, reader, max_bytes);
    auto& model = service.get(name, version);
    if (service.stopping()) throw serve::Busy("the server is shutting down");
    std::optional<ScoreActivation> activation;
    if (req.has_param("activation")) activation = serve::score_activation_named(req.get_param_value("activation"));
    std::string_view image = body.bytes;
    if (req.is_multipart_form_data()) {
      if (body.parts.size() != 1) {
        throw Error(ErrorKind::BadInput,
                    fmt::format("the form has {} parts; send one image per request (or several as BYTES to "
                                "/v2/models/{}/infer)",
                                body.parts.size(), name));
      }
      image = body.parts.front().content;
    }
    if (image.empty()) throw Error(ErrorKind::BadInput, "the request has no image: send a JPEG, PNG or DICOM file");
    const auto started = Clock::now();
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(image.data()), image.size());
    const auto result = model.classify({bytes}, activation, client_gone(req)).front();
    nlohmann::ordered_json scores = nlohmann::ordered_json::object();
    const auto& labels = model.classifier().labels();
    for (std::size_t i = 0; i < labels.size() && i < result.scores.size(); ++i) scores[labels[i]] = result.scores[i];
    res.set_header(
        "Server-Timing",
        fmt::format("infer;dur={:.3f}", std::chrono::duration<double, std::milli>(Clock::now() - started).count()));
    res.set_content(scores.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace), kJson);
    res.status = 200;
  });
}

void add_routes(httplib::Server& server, serve::Service& service, std::size_t max_bytes) {
  const std::string model_path = "/v2/models/([^/]+)(?:/versions/([^/]+))?";
  server.Get("/v2/health/live", [&](const httplib::Request&, httplib::Response& res) {
    g_request.endpoint = "health";
    set_json(res, {{"live", true}});
  });
  server.Get("/v2/health/ready", [&](const httplib::Request&, httplib::Response& res) {
    g_request.endpoint = "health";
    const bool ready = service.ready();
    set_json(res, {{"ready", ready}}, ready ? 200 : 503);
  });
  server.Get("/v2", [&](const httplib::Request&, httplib::Response& res) {
    g_request.endpoint = "metadata";
    set_json(res, service.server_metadata());
  });
  server.Get(model_path + "/ready", [&](const httplib::Request& req, httplib::Response& res) {
    const ModelRef ref = model_ref(req);
    const std::string& name = ref.name;
    const std::string& version = ref.version;
    model_route(service, "ready", name, res, [&] {
      const bool ready = service.get(name, version).ready() && !service.stopping();
      set_json(res, {{"name", name}, {"ready", ready}}, ready ? 200 : 503);
    });
  });
  server.Get(model_path, [&](const httplib::Request& req, httplib::Response& res) {
    const ModelRef ref = model_ref(req);
    const std::string& name = ref.name;
    const std::string& version = ref.version;
    model_route(service, "metadata", name, res, [&] { set_json(res, service.get(name, version).metadata()); });
  });
  server.Get(model_path + "/card", [&](const httplib::Request& req, httplib::Response& res) {
    const ModelRef ref = model_ref(req);
    const std::string& name = ref.name;
    const std::string& version = ref.version;
    model_route(service, "card", name, res, [&] { set_json(res, service.get(name, version).card()); });
  });
  server.Post(model_path + "/infer", [&service, max_bytes](const httplib::Request& req, httplib::Response& res,
                                                           const httplib::ContentReader& reader) {
    infer_route(service, req, res, reader, max_bytes);
  });
  server.Post(model_path + "/classify", [&service, max_bytes](const httplib::Request& req, httplib::Response& res,
                                                              const httplib::ContentReader& reader) {
    classify_route(service, req, res, reader, max_bytes);
  });
  server.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
    g_request.endpoint = "metrics";
    res.set_content(service.prometheus(), "text/plain; version=0.0.4");
  });
  server.Get("/models", [&](const httplib::Request&, httplib::Response& res) {
    g_request.endpoint = "card";
    json cards = json::array();
    for (const auto& m : service.models()) cards.push_back(m->card());
    set_json(res, cards);
  });
  server.Get("/", [&](const httplib::Request&, httplib::Response& res) {
    g_request.endpoint = "page";
    res.set_content(std::string(serve::web_page()), "text/html; charset=utf-8");
  });
}

}  // namespace

void log_line(const std::string& json_text) {
  static std::mutex mutex;
  const std::lock_guard lock(mutex);
  std::fputs((json_text + "\n").c_str(), stderr);
}

void HttpServer::raise_backlog() {
  const socket_t socket = svr_sock_;
  if (socket != INVALID_SOCKET) ::listen(socket, SOMAXCONN);  // on a listening socket: a new backlog
}

std::unique_ptr<HttpServer> make_http_server(serve::Service& service, const HttpOptions& options) {
  auto server = std::make_unique<HttpServer>();
  const int threads = options.threads;
  server->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  server->set_payload_max_length(options.max_request_bytes);
  server->set_tcp_nodelay(true);
  // httplib closes a connection after 5 requests by default: a load client
  // then reconnects all the time, and a request written as the server closes
  // is lost. A client keeps its connection as long as it wants.
  server->set_keep_alive_max_count(std::numeric_limits<std::size_t>::max());
  server->set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    g_request = RequestLog{};
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Statuses httplib sets itself (413 over --max-request-mb, 404 for no
  // route, 400 for an unreadable request) get the protocol's error body.
  const std::size_t max_bytes = options.max_request_bytes;
  const httplib::Server::HandlerWithResponse on_error = [max_bytes](const httplib::Request& req,
                                                                    httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string message;
    if (res.status == 413) {
      message = fmt::format("the request body is over --max-request-mb ({} MiB)", max_bytes >> 20);
    } else if (res.status == 404) {
      message = fmt::format("no route {} {}", req.method, req.path);
    } else {
      message = fmt::format("HTTP {}", res.status);
    }
    set_error(res, res.status, message);
    return httplib::Server::HandlerResponse::Handled;
  };
  server->set_error_handler(on_error);
  server->set_exception_handler([](const httplib::Request&, httplib::Response& res, const std::exception_ptr& ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    set_error(res, 500, fmt::format("internal error: {}", what));
  });
  server->set_logger([](const httplib::Request& req, const httplib::Response& res) {
    json line{{"event", "request"},
              {"method", req.method},
              {"path", req.path},
              {"status", res.status},
              {"ms", std::chrono::duration<double, std::milli>(Clock::now() - g_request.start).count()},
              {"request_bytes", std::max(req.body.size(), g_request.request_bytes)},
              {"response_bytes", res.body.size()},
              {"remote", req.remote_addr}};
    if (!g_request.model.empty()) line["model"] = g_request.model;
    if (!g_request.error.empty()) line["error"] = g_request.error;
    log_line(line.dump(-1, ' ', false, json::error_handler_t::replace));
  });
  add_routes(*server, service, options.max_request_bytes);
  return server;
}

}  // namespace pt2onnx::cli
