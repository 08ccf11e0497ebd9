// `pt2onnx serve`'s gRPC side: the Open Inference Protocol's
// inference.GRPCInferenceService (proto/grpc_predict_v2.proto): ServerLive,
// ServerReady, ModelReady, ServerMetadata, ModelMetadata and ModelInfer, with
// inputs as raw_input_contents or typed contents and outputs as
// raw_output_contents, all calling into serve::Service as the HTTP routes do.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "serve/service.h"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace pt2onnx::cli {

struct GrpcServer {
  std::unique_ptr<grpc::Service> service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  // Refuses new calls and waits for those in flight, at most `grace`.
  void stop(std::chrono::milliseconds grace);
  ~GrpcServer();
};

// Listens on host:port (port 0: a free one, in `port` after). Error(Usage)
// when the address cannot be bound. Each call is logged and counted like an
// HTTP request.
std::unique_ptr<GrpcServer> start_grpc_server(serve::Service& service, const std::string& host, int port,
                                              std::size_t max_message_bytes);

}  // namespace pt2onnx::cli
