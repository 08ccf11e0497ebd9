// The verification options of `pt2onnx export` and `pt2onnx verify`, and the
// numeric verification step of `verify`.
#pragma once

#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>

#include "nn/layer_graph.h"
#include "verify/verify.h"

namespace pt2onnx::cli {

// --atol, --rtol and --spread-multiple, for export and verify alike.
void add_tolerance_options(CLI::App& cmd, verify::Tolerance& tolerance);

// Runs verify::verify_model, prints the seed-style report, writes the JSON report
// when json_path is not empty; returns ExitCode::Ok or ExitCode::VerifyFailed.
int run_verification(const std::filesystem::path& model, const nn::LayerGraph& graph, const verify::Options& options,
                     const std::string& json_path);

}  // namespace pt2onnx::cli
