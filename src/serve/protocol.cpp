#include "serve/protocol.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "pt2onnx/error.h"

namespace pt2onnx::serve {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& message) { throw Error(ErrorKind::BadInput, message); }

const json& field(const json& object, const char* name, const std::string& where) {
  const auto it = object.find(name);
  if (it == object.end()) bad(fmt::format("{} has no \"{}\"", where, name));
  return *it;
}

std::string string_field(const json& object, const char* name, const std::string& where) {
  const auto& value = field(object, name, where);
  if (!value.is_string()) bad(fmt::format("{}: \"{}\" must be a string", where, name));
  return value.get<std::string>();
}

// A parameter of an object's "parameters", if it has one of that name.
const json* parameter(const json& object, const char* name, const std::string& where) {
  const auto it = object.find("parameters");
  if (it == object.end()) return nullptr;
  if (!it->is_object()) bad(fmt::format("{}: \"parameters\" must be an object", where));
  const auto p = it->find(name);
  return p == it->end() ? nullptr : &*p;
}

bool bool_parameter(const json& object, const char* name, const std::string& where) {
  const json* p = parameter(object, name, where);
  if (p == nullptr) return false;
  if (!p->is_boolean()) bad(fmt::format("{}: parameter \"{}\" must be true or false", where, name));
  return p->get<bool>();
}

std::int64_t element_count(const std::vector<std::int64_t>& shape, const Limits& limits, const std::string& where) {
  std::int64_t count = 1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0) bad(fmt::format("{}: shape axis {} is {}; sizes cannot be negative", where, i, shape[i]));
    if (shape[i] != 0 && count > limits.max_elements / shape[i]) {
      bad(fmt::format("{}: shape {} holds more than {} elements", where, json(shape).dump(), limits.max_elements));
    }
    count *= shape[i];
  }
  return count;
}

// Nesting deeper than any tensor's rank is refused before it can exhaust the stack.
constexpr int kMaxNesting = 32;
constexpr std::size_t kMaxRank = 16;

void check_rank(std::size_t rank, const std::string& where) {
  if (rank > kMaxRank) bad(fmt::format("{}: shape has {} axes; at most {} are supported", where, rank, kMaxRank));
}

// Every element of the shape given, none more.
void check_filled(const Tensor& t, std::int64_t count, const std::string& where) {
  if (t.elements() != count) {
    bad(fmt::format("{}: shape {} holds {} elements, but {} were given", where, json(t.shape).dump(), count,
                    t.elements()));
  }
}

void check_depth(int depth, const std::string& where) {
  if (depth > kMaxNesting) bad(fmt::format("{}: \"data\" is nested deeper than {} arrays", where, kMaxNesting));
}

// The leaves of nested JSON arrays, row-major ("data" may be flat or nested);
// more than `limit` are refused, as is nesting deeper than any tensor's rank.
void leaves_of(const json& data, std::vector<const json*>& out, std::int64_t limit, const std::string& where,
               int depth = 0) {
  if (data.is_array()) {
    check_depth(depth + 1, where);
    for (const auto& item : data) leaves_of(item, out, limit, where, depth + 1);
    return;
  }
  if (static_cast<std::int64_t>(out.size()) >= limit) bad(fmt::format("{}: more data than its shape holds", where));
  out.push_back(&data);
}

void read_json_data(Tensor& t, const json& data, std::int64_t count, const std::string& where) {
  std::vector<const json*> leaves;
  leaves_of(data, leaves, count, where);
  for (const json* v : leaves) {
    if (t.datatype == Datatype::Fp32) {
      if (!v->is_number()) bad(fmt::format("{}: FP32 data holds a {}, not a number", where, v->type_name()));
      const double d = v->get<double>();
      if (std::abs(d) > std::numeric_limits<float>::max())
        bad(fmt::format("{}: {} is beyond float32's range", where, d));
      t.fp32.push_back(static_cast<float>(d));
    } else {
      if (!v->is_string()) bad(fmt::format("{}: BYTES data holds a {}, not a string", where, v->type_name()));
      t.bytes.push_back(v->get<std::string>());
    }
  }
}

// The binary data still unread after the JSON header.
class BinaryReader {
 public:
  explicit BinaryReader(std::string_view data) : data_(data) {}
  std::string_view take(std::size_t n, const std::string& where) {
    if (n > data_.size() - at_) {
      bad(fmt::format("{}: binary_data_size says {} bytes, but only {} follow", where, n, data_.size() - at_));
    }
    const auto out = data_.substr(at_, n);
    at_ += n;
    return out;
  }
  [[nodiscard]] std::size_t left() const { return data_.size() - at_; }

 private:
  std::string_view data_;
  std::size_t at_ = 0;
};

std::uint32_t little_endian_u32(std::string_view bytes) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  return v;
}

void read_binary(Tensor& t, std::string_view bytes, std::int64_t count, const std::string& where) {
  if (t.datatype == Datatype::Fp32) {
    if (bytes.size() != static_cast<std::size_t>(count) * 4) {
      bad(fmt::format("{}: {} bytes of binary data for {} FP32 values ({} bytes)", where, bytes.size(), count,
                      count * 4));
    }
    t.fp32.resize(static_cast<std::size_t>(count));
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(t.fp32.data(), bytes.data(), bytes.size());  // the wire's layout is the machine's
    } else {
      for (std::size_t i = 0; i < t.fp32.size(); ++i) {
        const std::uint32_t bits = little_endian_u32(bytes.substr(i * 4, 4));
        std::memcpy(&t.fp32[i], &bits, 4);
      }
    }
    return;
  }
  BinaryReader elements(bytes);
  while (elements.left() > 0) {
    if (static_cast<std::int64_t>(t.bytes.size()) >= count) {
      bad(fmt::format("{}: the binary data holds more than the {} BYTES elements of its shape", where, count));
    }
    const std::uint32_t n = little_endian_u32(elements.take(4, where + ": a BYTES element's length"));
    t.bytes.emplace_back(elements.take(n, where + ": a BYTES element"));
  }
}

Tensor parse_input(const json& input, std::size_t index, BinaryReader* binary, const Limits& limits) {
  if (!input.is_object()) bad(fmt::format("input {} must be an object", index));
  Tensor t;
  t.name = string_field(input, "name", fmt::format("input {}", index));
  const std::string where = fmt::format("input '{}'", t.name);
  const auto& shape = field(input, "shape", where);
  if (!shape.is_array()) bad(where + ": \"shape\" must be an array of sizes");
  check_rank(shape.size(), where);
  for (const auto& d : shape) {
    if (!d.is_number_integer()) bad(fmt::format("{}: \"shape\" holds a {}, not a whole number", where, d.type_name()));
    t.shape.push_back(d.get<std::int64_t>());
  }
  t.datatype = datatype_named(string_field(input, "datatype", where), where);
  const std::int64_t count = element_count(t.shape, limits, where);
  const json* size = parameter(input, "binary_data_size", where);
  const auto data = input.find("data");
  if (size != nullptr) {
    if (data != input.end()) bad(where + ": has both \"data\" and binary_data_size");
    if (binary == nullptr) {
      bad(where +
          ": binary_data_size is given, but the request has no Inference-Header-Content-Length, so no binary "
          "data");
    }
    if (!size->is_number_unsigned()) bad(where + ": binary_data_size must be a whole number of bytes");
    read_binary(t, binary->take(size->get<std::size_t>(), where), count, where);
  } else {
    if (data == input.end()) bad(where + " has no \"data\" (and no binary_data_size)");
    read_json_data(t, *data, count, where);
  }
  check_filled(t, count, where);
  return t;
}

void append_le_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xffU));
}

}  // namespace

std::string_view datatype_name(Datatype datatype) { return datatype == Datatype::Fp32 ? "FP32" : "BYTES"; }

std::int64_t Tensor::elements() const {
  return static_cast<std::int64_t>(datatype == Datatype::Fp32 ? fp32.size() : bytes.size());
}

InferRequest parse_infer_request(std::string_view body, std::optional<std::size_t> json_length, const Limits& limits) {
  if (json_length && *json_length > body.size()) {
    bad(fmt::format("Inference-Header-Content-Length is {}, but the body has only {} bytes", *json_length,
                    body.size()));
  }
  const std::string_view header = json_length ? body.substr(0, *json_length) : body;
  // The JSON parser stops at a NUL byte as at the end of its input, so JSON
  // followed by binary data would pass for JSON alone.
  if (const auto nul = header.find('\0'); nul != std::string_view::npos) {
    bad(
        fmt::format("the request is not valid JSON: a NUL byte at offset {} (binary data needs the "
                    "Inference-Header-Content-Length header)",
                    nul));
  }
  json root;
  try {
    root = json::parse(header);
  } catch (const json::exception& e) {
    // parse_error, and out_of_range for a number beyond a double ("1E5575142").
    bad(fmt::format("the request is not valid JSON: {}", e.what()));
  }
  if (!root.is_object()) bad("the request must be a JSON object");
  InferRequest request;
  if (const auto id = root.find("id"); id != root.end()) {
    if (!id->is_string()) bad("\"id\" must be a string");
    request.id = id->get<std::string>();
  }
  if (const auto p = root.find("parameters"); p != root.end()) {
    if (!p->is_object()) bad("\"parameters\" must be an object");
    request.parameters = *p;
  }
  request.binary_outputs = bool_parameter(root, "binary_data_output", "the request");
  const auto& inputs = field(root, "inputs", "the request");
  if (!inputs.is_array() || inputs.empty()) bad("\"inputs\" must be a non-empty array");
  std::optional<BinaryReader> binary;
  if (json_length) binary.emplace(body.substr(*json_length));
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    request.inputs.push_back(parse_input(inputs[i], i, binary ? &*binary : nullptr, limits));
    for (std::size_t j = 0; j < i; ++j) {
      if (request.inputs[j].name == request.inputs[i].name) {
        bad(fmt::format("input '{}' is given twice", request.inputs[i].name));
      }
    }
  }
  if (binary && binary->left() > 0) {
    bad(fmt::format("{} bytes of binary data follow the inputs that binary_data_size accounts for", binary->left()));
  }
  if (const auto outputs = root.find("outputs"); outputs != root.end()) {
    if (!outputs->is_array()) bad("\"outputs\" must be an array");
    for (std::size_t i = 0; i < outputs->size(); ++i) {
      const auto& o = (*outputs)[i];
      if (!o.is_object()) bad(fmt::format("output {} must be an object", i));
      RequestedOutput r;
      r.name = string_field(o, "name", fmt::format("output {}", i));
      r.binary = bool_parameter(o, "binary_data", fmt::format("output '{}'", r.name));
      request.outputs.push_back(std::move(r));
    }
  }
  return request;
}

std::string raw_of(const Tensor& t) {
  std::string out;
  if (t.datatype == Datatype::Fp32) {
    out.reserve(t.fp32.size() * 4);
    for (float f : t.fp32) {
      std::uint32_t bits = 0;
      std::memcpy(&bits, &f, 4);
      append_le_u32(out, bits);
    }
  } else {
    for (const auto& b : t.bytes) {
      append_le_u32(out, static_cast<std::uint32_t>(b.size()));
      out += b;
    }
  }
  return out;
}

Datatype datatype_named(std::string_view name, const std::string& where) {
  if (name == "FP32") return Datatype::Fp32;
  if (name == "BYTES") return Datatype::Bytes;
  bad(
      fmt::format("{}: datatype {} is not supported; pt2onnx models take FP32 tensors or BYTES (encoded JPEG, PNG "
                  "or DICOM images)",
                  where, name));
}

void check_tensor(const Tensor& tensor, const Limits& limits) {
  const std::string where = fmt::format("input '{}'", tensor.name);
  check_rank(tensor.shape.size(), where);
  check_filled(tensor, element_count(tensor.shape, limits, where), where);
}

Tensor tensor_from_raw(std::string name, std::string_view datatype, std::vector<std::int64_t> shape,
                       std::string_view raw, const Limits& limits) {
  Tensor t;
  t.name = std::move(name);
  const std::string where = fmt::format("input '{}'", t.name);
  t.datatype = datatype_named(datatype, where);
  t.shape = std::move(shape);
  check_rank(t.shape.size(), where);
  const std::int64_t count = element_count(t.shape, limits, where);
  read_binary(t, raw, count, where);
  check_filled(t, count, where);
  return t;
}

ResponseBody format_infer_response(const std::string& model_name, const std::string& model_version,
                                   const InferRequest& request, const std::vector<Tensor>& outputs) {
  json root;
  root["model_name"] = model_name;
  root["model_version"] = model_version;
  if (!request.id.empty()) root["id"] = request.id;
  root["outputs"] = json::array();
  std::string binary;
  for (const auto& t : outputs) {
    bool as_binary = request.binary_outputs;
    for (const auto& r : request.outputs) {
      if (r.name == t.name) as_binary = as_binary || r.binary;
    }
    json o;
    o["name"] = t.name;
    o["datatype"] = std::string(datatype_name(t.datatype));
    o["shape"] = t.shape;
    if (as_binary) {
      const std::string data = raw_of(t);
      o["parameters"] = {{"binary_data_size", data.size()}};
      binary += data;
    } else if (t.datatype == Datatype::Fp32) {
      o["data"] = t.fp32;
    } else {
      o["data"] = t.bytes;
    }
    root["outputs"].push_back(std::move(o));
  }
  ResponseBody out;
  // BYTES outputs need not be UTF-8: such bytes are replaced, not thrown on
  // (the binary form carries them exactly).
  out.body = root.dump(-1, ' ', false, json::error_handler_t::replace);
  if (!binary.empty()) {
    out.json_length = out.body.size();
    out.body += binary;
  }
  return out;
}

}  // namespace pt2onnx::serve
