// `pt2onnx demo-checkpoint`: a checkpoint with deterministic random weights in
// torch.save's zip format, so the whole pipeline can be tried without training.
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "checkpoint/checkpoint.h"
#include "commands.h"
#include "common/random.h"
#include "exporter/demo_state.h"
#include "models/registry.h"
#include "reference/reference.h"

namespace pt2onnx::cli {
namespace {

namespace fs = std::filesystem;

struct DemoArgs {
  std::string path;
  std::int64_t num_outputs = 2;
  std::uint64_t seed = 0;
  std::string arch = "efficientnet_b0";
  double dropout = 0.4;
  bool force = false;
};

Tensor calibration_batch(const nn::LayerGraph& graph, std::uint64_t seed) {
  const auto c = graph.input_channels, size = graph.input_size;
  Tensor batch(DType::Float32, {4, c, size, size});
  auto data = batch.f32();
  const auto per_image = static_cast<std::size_t>(c * size * size);
  Random rng(seed ^ 0x5eedca1bULL);
  for (std::size_t i = 0; i < per_image; ++i) {
    data[i] = static_cast<float>(rng.normal());
    data[per_image + i] = static_cast<float>(rng.uniform());
    data[2 * per_image + i] = 1.0f;
    data[3 * per_image + i] = static_cast<float>(3.0 * rng.normal());
  }
  return batch;
}

int run_demo_checkpoint(const DemoArgs& args) {
  const fs::path path = args.path;
  // A demo checkpoint over a trained one would destroy real work.
  if (fs::exists(path) && !args.force) {
    throw Error(ErrorKind::Usage, fmt::format("{} already exists; pass --force to replace it", path.string()));
  }
  auto graph = models::build(args.arch, {args.num_outputs, args.dropout});
  exporter::bind_demo_params(graph, args.seed);
  // Random weights alone make a chaotic network whose logits reach thousands and
  // whose float32 evaluations disagree; BatchNorm statistics taken from a batch
  // of image-like inputs (normal, uniform, constant, wide) give it the
  // well-scaled activations a trained network has.
  reference::calibrate_batch_norm(graph, calibration_batch(graph, args.seed));
  const auto state = exporter::state_dict_of(graph);
  // The seed's training script saves {'model_state_dict': model.state_dict(), ...}.
  checkpoint::write_torch_zip(path, state, "model_state_dict");
  std::uint64_t bytes = 0;
  for (const auto& [key, tensor] : state.entries) bytes += tensor.nbytes();
  fmt::print("Wrote demo checkpoint {}: {} with {} outputs, random weights from seed {} ({} tensors, {:.1f} MB)\n",
             path.string(), args.arch, args.num_outputs, args.seed, state.size(), static_cast<double>(bytes) / 1e6);
  return static_cast<int>(ExitCode::Ok);
}

}  // namespace

void add_demo_checkpoint_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<DemoArgs>();
  auto* cmd = app.add_subcommand("demo-checkpoint",
                                 "Write a checkpoint with deterministic random weights, {'model_state_dict': ...}, "
                                 "in torch.save's zip format");
  cmd->add_option("PATH", args->path, "Checkpoint file to write")->required();
  cmd->add_option("--num-outputs", args->num_outputs, "Outputs of the classifier head")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1'000'000}))
      ->capture_default_str();
  cmd->add_option("--seed", args->seed, "Seed of the weights")->capture_default_str();
  cmd->add_option("--arch", args->arch, "Architecture")->capture_default_str();
  cmd->add_flag("--force", args->force, "Replace PATH if it exists");
  cmd->callback([args, &action] { action = [args] { return run_demo_checkpoint(*args); }; });
}

}  // namespace pt2onnx::cli
