// The public export and verification calls (pt2onnx/export.h), as a program
// that embeds pt2onnx makes them: a checkpoint in, a verified model out, the
// progress as text, the failures as Errors of the command's kinds.
#include "pt2onnx/export.h"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "checkpoint/checkpoint.h"
#include "exporter/demo_state.h"
#include "models/registry.h"
#include "pt2onnx/error.h"
#include "pt2onnx/runtime.h"
#include "support/error_kind.h"
#include "support/temp_dir.h"

namespace pt2onnx::testing {
namespace {

namespace fs = std::filesystem;

// A MobileNet V3 small checkpoint with 3 outputs, as the training script saves it.
fs::path write_checkpoint(const TempDir& dir) {
  const auto graph = models::build("mobilenet_v3_small", {3, 0.4});
  const auto path = dir.path() / "mobile.pth";
  checkpoint::write_torch_zip(path, exporter::demo_state_dict(graph, 11), "model_state_dict");
  return path;
}

TEST(ApiExport, ExportsAVerifiedModelAndSaysWhatItDid) {
  TempDir dir;
  ExportRequest request;
  request.checkpoint = write_checkpoint(dir);
  request.labels = std::vector<std::string>{"a", "b", "c"};
  std::string said;
  const auto result = export_checkpoint(request, [&](std::string_view text) { said += text; });

  EXPECT_EQ(result.output, dir.path() / "mobile.onnx");  // the checkpoint's name with .onnx
  EXPECT_EQ(result.arch, "mobilenet_v3_small");          // identified, not told
  EXPECT_EQ(result.num_outputs, 3);
  EXPECT_TRUE(result.verified);
  EXPECT_LT(result.max_abs_diff, 1e-2);
  EXPECT_EQ(result.file_bytes, fs::file_size(result.output));
  EXPECT_EQ(result.labels, request.labels);
  EXPECT_NE(said.find("Architecture: mobilenet_v3_small (detected"), std::string::npos) << said;
  EXPECT_NE(said.find("Verification passed!"), std::string::npos) << said;
  EXPECT_NE(said.find("Export complete!"), std::string::npos) << said;

  // The file is the engine's to run, with the outputs the result announced.
  auto model = runtime::Model::load(result.output);
  ASSERT_EQ(model.outputs().size(), 1U);
  EXPECT_EQ(model.outputs()[0].shape.back(), 3);

  // And the verification call agrees with itself on it.
  VerifyRequest verify;
  verify.model = result.output;
  verify.checkpoint = request.checkpoint;
  const auto verdict = verify_export(verify);
  EXPECT_TRUE(verdict.passed);
  EXPECT_LT(verdict.max_abs_diff, 1e-2);
  const auto report = nlohmann::json::parse(verdict.json);
  EXPECT_TRUE(report.contains("probes")) << verdict.json;
}

TEST(ApiExport, AFailedRequestIsAnErrorOfTheCommandsKindAndWritesNothing) {
  TempDir dir;
  ExportRequest request;
  request.checkpoint = write_checkpoint(dir);
  request.output = dir.path() / "out.onnx";
  request.verify = false;

  request.labels = std::vector<std::string>{"only", "two"};
  EXPECT_EQ(kind_of([&] { export_checkpoint(request); }), ErrorKind::Usage);
  request.labels.reset();
  request.choice.arch = "resnet18";  // told wrong: the tensors do not fit
  EXPECT_EQ(kind_of([&] { export_checkpoint(request); }), ErrorKind::ArchMismatch);
  request.choice.arch = kAutoArchitecture;
  request.opset = 9;
  EXPECT_EQ(kind_of([&] { export_checkpoint(request); }), ErrorKind::Usage);
  request.opset = kDefaultOpset;
  request.output = request.checkpoint;  // over its own input
  EXPECT_EQ(kind_of([&] { export_checkpoint(request); }), ErrorKind::Usage);
  EXPECT_FALSE(fs::exists(dir.path() / "out.onnx"));

  VerifyRequest verify;
  verify.model = dir.path() / "missing.onnx";
  verify.checkpoint = request.checkpoint;
  const auto missing = kind_of([&] { verify_export(verify); });
  EXPECT_TRUE(missing == ErrorKind::BadInput || missing == ErrorKind::Io) << static_cast<int>(missing);
}

TEST(ApiExport, ADisagreementIsAVerdictNotAnError) {
  TempDir dir;
  ExportRequest request;
  request.checkpoint = write_checkpoint(dir);
  request.verify = false;
  const auto exported = export_checkpoint(request);
  VerifyRequest verify;
  verify.model = exported.output;
  verify.checkpoint = request.checkpoint;
  // No allowance at all: float32 against the reference's double sums differs.
  verify.tolerance = {0.0, 0.0, 0.0};
  const auto verdict = verify_export(verify);
  EXPECT_FALSE(verdict.passed);
  EXPECT_GT(verdict.max_abs_diff, 0.0);
}

}  // namespace
}  // namespace pt2onnx::testing
