// The numeric verification step shared by `pt2onnx verify` and `pt2onnx export`.
#pragma once

#include <filesystem>
#include <string>

#include "nn/graph.h"
#include "verify/verify.h"

namespace pt2onnx::cli {

// Runs verify::verify_model, prints the seed-style report, writes the JSON report
// when json_path is not empty; returns ExitCode::Ok or ExitCode::VerifyFailed.
int run_verification(const std::filesystem::path& model, const nn::Graph& graph, const verify::Options& options,
                     const std::string& json_path);

}  // namespace pt2onnx::cli
