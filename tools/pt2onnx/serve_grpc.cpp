#include "serve_grpc.h"

#include <chrono>
#include <exception>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "grpc_predict_v2.grpc.pb.h"
#include "pt2onnx/error.h"
#include "serve/protocol.h"
#include "serve_http.h"

namespace pt2onnx::cli {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// A request parameter as the JSON value the HTTP side would have read.
json parameter_value(const inference::InferParameter& p) {
  switch (p.parameter_choice_case()) {
    case inference::InferParameter::kBoolParam:
      return p.bool_param();
    case inference::InferParameter::kInt64Param:
      return p.int64_param();
    case inference::InferParameter::kStringParam:
      return p.string_param();
    case inference::InferParameter::PARAMETER_CHOICE_NOT_SET:
      break;
  }
  return nullptr;
}

template <typename Map>
json parameters_of(const Map& map) {
  json out = json::object();
  for (const auto& [key, value] : map) out[key] = parameter_value(value);
  return out;
}

// The protocol's request from the gRPC message: each input from its
// raw_input_contents entry when the request has them, else from its typed
// contents; checked like an HTTP request's.
serve::InferRequest request_of(const inference::ModelInferRequest& message, const serve::Limits& limits) {
  serve::InferRequest request;
  request.id = message.id();
  request.parameters = parameters_of(message.parameters());
  const bool raw = message.raw_input_contents_size() > 0;
  if (raw && message.raw_input_contents_size() != message.inputs_size()) {
    throw Error(ErrorKind::BadInput, fmt::format("{} raw_input_contents for {} inputs; give one per input",
                                                 message.raw_input_contents_size(), message.inputs_size()));
  }
  for (int i = 0; i < message.inputs_size(); ++i) {
    const auto& input = message.inputs(i);
    std::vector<std::int64_t> shape(input.shape().begin(), input.shape().end());
    if (raw) {
      request.inputs.push_back(serve::tensor_from_raw(input.name(), input.datatype(), std::move(shape),
                                                      message.raw_input_contents(i), limits));
      continue;
    }
    serve::Tensor t;
    t.name = input.name();
    t.datatype = serve::datatype_named(input.datatype(), fmt::format("input '{}'", t.name));
    t.shape = std::move(shape);
    if (t.datatype == serve::Datatype::Fp32) {
      t.fp32.assign(input.contents().fp32_contents().begin(), input.contents().fp32_contents().end());
    } else {
      t.bytes.assign(input.contents().bytes_contents().begin(), input.contents().bytes_contents().end());
    }
    serve::check_tensor(t, limits);
    request.inputs.push_back(std::move(t));
  }
  for (const auto& output : message.outputs()) request.outputs.push_back({output.name(), true});
  return request;
}

grpc::StatusCode grpc_code(serve::FailureKind kind) {
  switch (kind) {
    case serve::FailureKind::BadRequest:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case serve::FailureKind::NotFound:
      return grpc::StatusCode::NOT_FOUND;
    case serve::FailureKind::Busy:
      return grpc::StatusCode::UNAVAILABLE;
    case serve::FailureKind::Gone:
      return grpc::StatusCode::CANCELLED;
    case serve::FailureKind::TooLarge:  // gRPC's own for a message over its limit
    case serve::FailureKind::OutOfMemory:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case serve::FailureKind::Internal:
      break;
  }
  return grpc::StatusCode::INTERNAL;
}

class InferenceService final : public inference::GRPCInferenceService::Service {
 public:
  explicit InferenceService(serve::Service& service) : service_(service) {}

  grpc::Status ServerLive(grpc::ServerContext* /*context*/, const inference::ServerLiveRequest* /*request*/,
                          inference::ServerLiveResponse* response) override {
    response->set_live(true);
    return grpc::Status::OK;
  }

  grpc::Status ServerReady(grpc::ServerContext* /*context*/, const inference::ServerReadyRequest* /*request*/,
                           inference::ServerReadyResponse* response) override {
    response->set_ready(service_.ready());
    return grpc::Status::OK;
  }

  grpc::Status ModelReady(grpc::ServerContext* /*context*/, const inference::ModelReadyRequest* request,
                          inference::ModelReadyResponse* response) override {
    return call("ModelReady", "ready", request->name(), [&] {
      response->set_ready(service_.get(request->name(), request->version()).ready() && !service_.stopping());
    });
  }

  grpc::Status ServerMetadata(grpc::ServerContext* /*context*/, const inference::ServerMetadataRequest* /*request*/,
                              inference::ServerMetadataResponse* response) override {
    const json meta = service_.server_metadata();
    response->set_name(meta.at("name").get<std::string>());
    response->set_version(meta.at("version").get<std::string>());
    for (const auto& e : meta.at("extensions")) response->add_extensions(e.get<std::string>());
    return grpc::Status::OK;
  }

  grpc::Status ModelMetadata(grpc::ServerContext* /*context*/, const inference::ModelMetadataRequest* request,
                             inference::ModelMetadataResponse* response) override {
    return call("ModelMetadata", "metadata", request->name(), [&] {
      const json meta = service_.get(request->name(), request->version()).metadata();
      response->set_name(meta.at("name").get<std::string>());
      for (const auto& v : meta.at("versions")) response->add_versions(v.get<std::string>());
      response->set_platform(meta.at("platform").get<std::string>());
      const auto fill = [](const json& tensors, const auto& add) {
        for (const auto& t : tensors) {
          auto* out = add();
          out->set_name(t.at("name").get<std::string>());
          out->set_datatype(t.at("datatype").get<std::string>());
          for (const auto& d : t.at("shape")) out->add_shape(d.get<std::int64_t>());
        }
      };
      fill(meta.at("inputs"), [&] { return response->add_inputs(); });
      fill(meta.at("outputs"), [&] { return response->add_outputs(); });
    });
  }

  grpc::Status ModelInfer(grpc::ServerContext* context, const inference::ModelInferRequest* request,
                          inference::ModelInferResponse* response) override {
    return call("ModelInfer", "grpc_infer", request->model_name(), [&] {
      auto& model = service_.get(request->model_name(), request->model_version());
      if (service_.stopping()) throw serve::Busy("the server is shutting down");
      const auto infer_request = request_of(*request, service_.options().limits);
      // A call the client cancels (or whose deadline passes) while queued does not run.
      const auto outputs = model.infer(infer_request, [context] { return context->IsCancelled(); });
      response->set_model_name(model.name());
      response->set_model_version(serve::ServedModel::version());
      response->set_id(infer_request.id);
      for (const auto& t : outputs) {
        auto* out = response->add_outputs();
        out->set_name(t.name);
        out->set_datatype(std::string(serve::datatype_name(t.datatype)));
        for (const auto d : t.shape) out->add_shape(d);
        response->add_raw_output_contents(serve::raw_of(t));
      }
    });
  }

 private:
  // Runs a call's work, mapping exceptions onto gRPC status codes as the
  // HTTP side maps them onto HTTP statuses; logs and counts it.
  template <typename Fn>
  grpc::Status call(const char* method, const char* endpoint, const std::string& model, Fn&& fn) {
    const auto start = Clock::now();
    const serve::Metrics::InFlight in_flight(service_.metrics());
    grpc::Status status = grpc::Status::OK;
    try {
      fn();
    } catch (...) {
      const serve::Failure failure = serve::failure_of(std::current_exception());
      status = grpc::Status(grpc_code(failure.kind), failure.message);
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    service_.count(model, endpoint, !status.ok(), seconds);
    json line{{"event", "request"},
              {"grpc", method},
              {"model", model},
              {"status", status.error_code()},
              {"ms", seconds * 1000.0}};
    if (!status.ok()) line["error"] = status.error_message();
    log_line(line.dump(-1, ' ', false, json::error_handler_t::replace));
    return status;
  }

  serve::Service& service_;
};

}  // namespace

GrpcServer::~GrpcServer() {
  if (server) server->Shutdown();
}

void GrpcServer::stop(std::chrono::milliseconds grace) { server->Shutdown(std::chrono::system_clock::now() + grace); }

std::unique_ptr<GrpcServer> start_grpc_server(serve::Service& service, const std::string& host, int port,
                                              std::size_t max_message_bytes) {
  auto out = std::make_unique<GrpcServer>();
  out->service = std::make_unique<InferenceService>(service);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(fmt::format("{}:{}", host, port), grpc::InsecureServerCredentials(), &out->port);
  const auto limit = static_cast<int>(std::min<std::size_t>(max_message_bytes, std::numeric_limits<int>::max()));
  builder.SetMaxReceiveMessageSize(limit);
  builder.SetMaxSendMessageSize(std::numeric_limits<int>::max());
  builder.RegisterService(out->service.get());
  out->server = builder.BuildAndStart();
  if (!out->server || out->port == 0) {
    throw_error(ErrorKind::Usage,
                fmt::format("cannot listen for gRPC on {}:{} (in use, or not an address of this machine)", host, port));
  }
  return out;
}

}  // namespace pt2onnx::cli
