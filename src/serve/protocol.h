// The Open Inference Protocol's (KServe v2, as Triton implements it) HTTP/REST
// inference messages: an infer request body, JSON alone or a JSON header
// followed by binary tensor data (the binary tensor data extension), read into
// typed tensors; and the response written back the same two ways. The first
// piece of `pt2onnx serve` (issue 13); it takes untrusted bytes, so it has a
// fuzz target of its own (fuzz/targets.cpp, serve_request).
//
// Request:  {"id": "...", "parameters": {...},
//            "inputs": [{"name": "image", "shape": [1, 3, 224, 224], "datatype": "FP32",
//                        "data": [...] | "parameters": {"binary_data_size": N}}],
//            "outputs": [{"name": "logits", "parameters": {"binary_data": true}}]}
// Binary data follows the JSON header in input order: FP32 as little-endian
// floats, BYTES as (uint32 little-endian length, bytes) per element.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace pt2onnx::serve {

// The datatypes pt2onnx's models take: FP32 tensors and BYTES (encoded
// images). Any other protocol datatype is refused by name.
enum class Datatype { Fp32, Bytes };
std::string_view datatype_name(Datatype datatype);
// "FP32" or "BYTES"; Error(BadInput) naming `where` for any other.
Datatype datatype_named(std::string_view name, const std::string& where);

struct Tensor {
  std::string name;
  std::vector<std::int64_t> shape;
  Datatype datatype = Datatype::Fp32;
  std::vector<float> fp32;         // Fp32: row-major, product(shape) values
  std::vector<std::string> bytes;  // Bytes: product(shape) elements
  [[nodiscard]] std::int64_t elements() const;
};

struct RequestedOutput {
  std::string name;
  bool binary = false;  // "parameters": {"binary_data": true}
};

struct InferRequest {
  std::string id;  // echoed in the response; "" when absent
  nlohmann::json parameters = nlohmann::json::object();
  std::vector<Tensor> inputs;
  std::vector<RequestedOutput> outputs;  // empty: every output, as JSON
  bool binary_outputs = false;           // "parameters": {"binary_data_output": true}
};

struct Limits {
  std::int64_t max_elements = std::int64_t{1} << 28;  // per tensor
};

// `body` is the whole HTTP body; `json_length` the Inference-Header-Content-Length
// header's value when the request has one (binary data after the JSON), else
// nullopt (JSON only). Error(BadInput) saying what is wrong and naming the
// input, for anything that is not a well-formed request: malformed JSON, a
// missing field, a datatype other than FP32 or BYTES, a shape whose element
// count the data does not match, binary data too short or left over.
InferRequest parse_infer_request(std::string_view body, std::optional<std::size_t> json_length,
                                 const Limits& limits = {});

// A tensor from raw little-endian bytes, laid out as the binary tensor data
// extension and gRPC's raw_input_contents lay it out (FP32: 4 bytes a value;
// BYTES: a 4-byte length and the bytes, per element). Error(BadInput) as
// parse_infer_request, naming the input.
Tensor tensor_from_raw(std::string name, std::string_view datatype, std::vector<std::int64_t> shape,
                       std::string_view raw, const Limits& limits = {});
// A tensor whose fp32 or bytes values were filled by the caller: Error(BadInput)
// unless its rank, element count and values fit its shape and the limits.
void check_tensor(const Tensor& tensor, const Limits& limits = {});
// A tensor's values as raw bytes, the layout tensor_from_raw reads.
std::string raw_of(const Tensor& tensor);

// A response body: the JSON text, then the binary data of outputs sent as
// binary; json_length is set when there is binary data (the response's
// Inference-Header-Content-Length).
struct ResponseBody {
  std::string body;
  std::optional<std::size_t> json_length;
};

// Each output as JSON "data", or as binary data when `binary` says so for its
// name or request.binary_outputs is set.
ResponseBody format_infer_response(const std::string& model_name, const std::string& model_version,
                                   const InferRequest& request, const std::vector<Tensor>& outputs);

}  // namespace pt2onnx::serve
