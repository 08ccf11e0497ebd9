// The Open Inference Protocol's infer messages, as the protocol's
// specification and its binary tensor data extension write them.
#include "serve/protocol.h"

#include <cmath>
#include <cstring>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "pt2onnx/error.h"

namespace pt2onnx::serve {
namespace {

using nlohmann::json;

// The message of the BadInput error that parsing `body` throws.
std::string refusal(const std::string& body, std::optional<std::size_t> json_length = std::nullopt) {
  try {
    (void)parse_infer_request(body, json_length);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << body;
  return {};
}

std::string le_floats(const std::vector<float>& values) {
  std::string out;
  for (float f : values) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &f, 4);
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xffU));
  }
  return out;
}

std::string le_u32(std::uint32_t v) {
  std::string out;
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xffU));
  return out;
}

TEST(ServeProtocol, ReadsTheSpecificationsJsonRequestNestedOrFlat) {
  // The shape of the specification's own example, with the data nested and flat.
  const std::string nested = R"({"id": "42", "inputs": [{"name": "input0", "shape": [2, 2], "datatype": "FP32",
      "data": [[1, 2], [3, 4.5]]}], "outputs": [{"name": "output0"}]})";
  const auto a = parse_infer_request(nested, std::nullopt);
  EXPECT_EQ(a.id, "42");
  ASSERT_EQ(a.inputs.size(), 1U);
  EXPECT_EQ(a.inputs[0].name, "input0");
  EXPECT_EQ(a.inputs[0].shape, (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(a.inputs[0].fp32, (std::vector<float>{1, 2, 3, 4.5F}));
  ASSERT_EQ(a.outputs.size(), 1U);
  EXPECT_EQ(a.outputs[0].name, "output0");
  EXPECT_FALSE(a.outputs[0].binary);

  const auto b = parse_infer_request(
      R"({"inputs": [{"name": "input0", "shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3, 4.5]}]})", std::nullopt);
  EXPECT_EQ(b.inputs[0].fp32, a.inputs[0].fp32);
  EXPECT_TRUE(b.id.empty());
  EXPECT_TRUE(b.outputs.empty());

  const auto c = parse_infer_request(
      R"({"inputs": [{"name": "images", "shape": [2], "datatype": "BYTES", "data": ["abc", "de"]}]})", std::nullopt);
  EXPECT_EQ(c.inputs[0].datatype, Datatype::Bytes);
  EXPECT_EQ(c.inputs[0].bytes, (std::vector<std::string>{"abc", "de"}));
}

TEST(ServeProtocol, ReadsBinaryTensorDataAfterTheJsonHeader) {
  const std::vector<float> values{0.5F, -1.25F, 3e-8F, 65504.0F, -0.0F, 7.0F};
  const std::string header = R"({"inputs": [
      {"name": "x", "shape": [1, 6], "datatype": "FP32", "parameters": {"binary_data_size": 24}},
      {"name": "img", "shape": [2], "datatype": "BYTES", "parameters": {"binary_data_size": 15}}],
      "outputs": [{"name": "logits", "parameters": {"binary_data": true}}]})";
  const std::string body =
      header + le_floats(values) + le_u32(3) + std::string("\xff\xd8\x00", 3) + le_u32(4) + "\x89PNG";
  const auto r = parse_infer_request(body, header.size());
  ASSERT_EQ(r.inputs.size(), 2U);
  EXPECT_EQ(r.inputs[0].fp32, values);
  EXPECT_TRUE(std::signbit(r.inputs[0].fp32[4]));  // -0 keeps its sign: bits, not text
  EXPECT_EQ(r.inputs[1].bytes, (std::vector<std::string>{std::string("\xff\xd8\x00", 3), "\x89PNG"}));
  EXPECT_TRUE(r.outputs[0].binary);
}

TEST(ServeProtocol, RefusesWhatIsNotAWellFormedRequestSayingWhat) {
  EXPECT_NE(refusal("{\"inputs\": [").find("not valid JSON"), std::string::npos);
  EXPECT_NE(refusal("[]").find("JSON object"), std::string::npos);
  // A number beyond a double's range is the JSON parser's out_of_range, not its parse_error (found by the fuzzer).
  EXPECT_NE(refusal(R"({"id": 1E5575142})").find("not valid JSON"), std::string::npos);
  EXPECT_NE(refusal("{}").find("\"inputs\""), std::string::npos);
  const auto one = [](const std::string& input) { return R"({"inputs": [)" + input + "]}"; };
  EXPECT_NE(refusal(one(R"({"name": "x", "shape": [3], "datatype": "FP32", "data": [1, 2]})"))
                .find("holds 3 elements, but 2"),
            std::string::npos);
  EXPECT_NE(refusal(one(R"({"name": "x", "shape": [1], "datatype": "FP32", "data": [1, 2]})")).find("more data"),
            std::string::npos);
  EXPECT_NE(refusal(one(R"({"name": "x", "shape": [2], "datatype": "INT8", "data": [1, 2]})")).find("INT8"),
            std::string::npos);
  EXPECT_NE(refusal(one(R"({"name": "x", "shape": [1], "datatype": "FP32", "data": ["1"]})")).find("not a number"),
            std::string::npos);
  EXPECT_NE(refusal(one(R"({"name": "x", "shape": [1], "datatype": "FP32", "data": [1e39]})")).find("float32"),
            std::string::npos);
  EXPECT_NE(refusal(one(R"({"name": "x", "shape": [-1], "datatype": "FP32", "data": []})")).find("negative"),
            std::string::npos);
  EXPECT_NE(refusal(one(R"({"name": "x", "shape": [1], "datatype": "FP32"})")).find("no \"data\""), std::string::npos);
  EXPECT_NE(refusal(one(R"({"shape": [1], "datatype": "FP32", "data": [1]})")).find("\"name\""), std::string::npos);
  EXPECT_NE(refusal(R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]},
                                   {"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}]})")
                .find("twice"),
            std::string::npos);
  // An element count past the limit is refused before anything is allocated.
  EXPECT_NE(refusal(one(R"({"name": "x", "shape": [100000, 100000, 100000], "datatype": "FP32", "data": []})"))
                .find("more than"),
            std::string::npos);
  // Nesting deeper than any tensor is refused before it can exhaust the stack.
  EXPECT_NE(refusal(one(R"({"name": "x", "shape": [1], "datatype": "FP32", "data": )" + std::string(5000, '[') + "1" +
                        std::string(5000, ']') + "}"))
                .find("nested"),
            std::string::npos);
}

TEST(ServeProtocol, RefusesBinaryDataThatDoesNotAddUp) {
  const std::string header =
      R"({"inputs": [{"name": "x", "shape": [2], "datatype": "FP32", "parameters": {"binary_data_size": 8}}]})";
  const std::string eight = le_floats({1, 2});
  EXPECT_NO_THROW((void)parse_infer_request(header + eight, header.size()));
  EXPECT_NE(refusal(header + eight.substr(0, 5), header.size()).find("only 5 follow"), std::string::npos);
  EXPECT_NE(refusal(header + eight + "!", header.size()).find("1 bytes of binary data follow"), std::string::npos);
  EXPECT_NE(refusal(header + eight, std::nullopt).find("not valid JSON"), std::string::npos);
  EXPECT_NE(refusal(header, std::nullopt).find("no Inference-Header-Content-Length"), std::string::npos);
  EXPECT_NE(refusal(header, header.size() + 1).find("Inference-Header-Content-Length is"), std::string::npos);
  const std::string wrong_size =
      R"({"inputs": [{"name": "x", "shape": [3], "datatype": "FP32", "parameters": {"binary_data_size": 8}}]})";
  EXPECT_NE(refusal(wrong_size + eight, wrong_size.size()).find("for 3 FP32 values"), std::string::npos);
  const std::string bytes_header =
      R"({"inputs": [{"name": "img", "shape": [1], "datatype": "BYTES", "parameters": {"binary_data_size": 6}}]})";
  EXPECT_NE(refusal(bytes_header + le_u32(9) + "ab", bytes_header.size()).find("BYTES element"), std::string::npos);
}

TEST(ServeProtocol, WritesResponsesAsJsonOrBinaryThatReadBack) {
  InferRequest request;
  request.id = "req-7";
  request.outputs = {{"logits", true}, {"labels", false}};
  Tensor logits;
  logits.name = "logits";
  logits.shape = {1, 3};
  logits.fp32 = {0.1F, -2.5F, 1e-30F};
  Tensor labels;
  labels.name = "labels";
  labels.datatype = Datatype::Bytes;
  labels.shape = {1, 3};
  labels.bytes = {"benign", "malignant", "normal"};

  const auto binary = format_infer_response("mobile", "1", request, {logits, labels});
  ASSERT_TRUE(binary.json_length.has_value());
  const auto header = json::parse(binary.body.substr(0, *binary.json_length));
  EXPECT_EQ(header["model_name"], "mobile");
  EXPECT_EQ(header["model_version"], "1");
  EXPECT_EQ(header["id"], "req-7");
  EXPECT_EQ(header["outputs"][0]["parameters"]["binary_data_size"], 12);
  EXPECT_FALSE(header["outputs"][0].contains("data"));
  EXPECT_EQ(header["outputs"][1]["data"], json({"benign", "malignant", "normal"}));
  EXPECT_EQ(binary.body.substr(*binary.json_length), le_floats(logits.fp32));

  request.outputs.clear();
  const auto text = format_infer_response("mobile", "1", request, {logits});
  EXPECT_FALSE(text.json_length.has_value());
  const auto parsed = json::parse(text.body);
  // Each float32 survives the trip through JSON text exactly.
  ASSERT_EQ(parsed["outputs"][0]["data"].size(), 3U);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(static_cast<float>(parsed["outputs"][0]["data"][i].get<double>()), logits.fp32[i]);
  }
  // And the response reads back as a request would: shape and datatype intact.
  EXPECT_EQ(parsed["outputs"][0]["shape"], json({1, 3}));
  EXPECT_EQ(parsed["outputs"][0]["datatype"], "FP32");
}

// gRPC's raw_input_contents: the binary extension's layout, one input at a time.
TEST(ServeProtocol, RawContentsReadAndWriteTheBinaryLayout) {
  const std::vector<float> values{1.5F, -0.0F, 3e-39F, 65504.0F, -2.25F, 7.0F};
  const Tensor t = tensor_from_raw("image", "FP32", {1, 2, 3}, le_floats(values));
  EXPECT_EQ(t.fp32.size(), 6U);
  EXPECT_TRUE(std::signbit(t.fp32[1]));
  EXPECT_EQ(t.fp32[2], 3e-39F);  // a denormal crosses unchanged
  EXPECT_EQ(raw_of(t), le_floats(values));

  std::string elements;
  const std::string odd("\xff\x00z", 3);
  for (const std::string& e : {std::string("ab"), std::string(), odd}) {
    const auto n = static_cast<std::uint32_t>(e.size());
    for (int i = 0; i < 4; ++i) elements.push_back(static_cast<char>((n >> (8 * i)) & 0xffU));
    elements += e;
  }
  const Tensor b = tensor_from_raw("image", "BYTES", {3}, elements);
  EXPECT_EQ(b.bytes, (std::vector<std::string>{"ab", "", odd}));
  EXPECT_EQ(raw_of(b), elements);

  const auto refused = [](const auto& make, const std::string& needle) {
    try {
      (void)make();
      ADD_FAILURE() << "accepted; expected: " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::BadInput);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  refused([&] { return tensor_from_raw("image", "FP32", {1, 2, 3}, le_floats(values).substr(1)); }, "23 bytes");
  refused([&] { return tensor_from_raw("image", "FP16", {1}, "ab"); }, "FP16");
  refused([&] { return tensor_from_raw("image", "BYTES", {2}, elements); }, "more than the 2");
  refused([&] { return tensor_from_raw("image", "FP32", {-1, 3}, ""); }, "negative");
  refused([&] { return tensor_from_raw("image", "FP32", std::vector<std::int64_t>(17, 1), le_floats({1})); },
          "at most 16");
  Tensor typed;
  typed.name = "image";
  typed.shape = {2, 2};
  typed.fp32 = {1, 2, 3};
  refused(
      [&] {
        check_tensor(typed);
        return 0;
      },
      "holds 4 elements, but 3");
}

}  // namespace
}  // namespace pt2onnx::serve
