// `pt2onnx demo-checkpoint`: a checkpoint with deterministic random weights in
// torch.save's zip format, so the whole pipeline can be tried without training.
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "checkpoint/checkpoint.h"
#include "commands.h"
#include "exporter/demo_state.h"
#include "models/registry.h"

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

int run_demo_checkpoint(const DemoArgs& args) {
  const fs::path path = args.path;
  // A demo checkpoint over a trained one would destroy real work.
  if (fs::exists(path) && !args.force) {
    throw Error(ErrorKind::Usage, fmt::format("{} already exists; pass --force to replace it", path.string()));
  }
  const auto graph = models::build(args.arch, {args.num_outputs, args.dropout});
  const auto state = exporter::demo_state_dict(graph, args.seed);
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
