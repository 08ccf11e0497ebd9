// pt2onnx triton-repo MODEL.onnx DIR [--name NAME] [--max-batch N]
// Writes a Triton model repository entry for a pt2onnx model, the route from
// one machine running `pt2onnx serve` to a cluster running Triton (or KServe
// with Triton as its runtime), with no client changed: DIR/NAME/1/model.onnx,
// DIR/NAME/config.pbtxt (platform onnxruntime_onnx, max_batch_size, input and
// output dims, dynamic_batching) and DIR/NAME/labels.txt. The entry appears
// whole or not at all: it is written beside its place and renamed into it.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "commands.h"
#include "pt2onnx/classify.h"
#include "serve/service.h"
#include "shared_options.h"

namespace pt2onnx::cli {
namespace {

namespace fs = std::filesystem;

struct TritonArgs {
  std::string model;
  std::string repository;
  std::string name;  // empty: the model file's stem
  std::int64_t max_batch = serve::ServeOptions::kDefaultMaxBatch;
  double max_queue_delay_ms = static_cast<double>(serve::ServeOptions::kDefaultQueueDelayUs) / 1000.0;
  bool force = false;
};

// A folder removed with everything in it unless released.
class TemporaryFolder {
 public:
  explicit TemporaryFolder(fs::path path) : path_(std::move(path)) { fs::create_directories(path_); }
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;
  ~TemporaryFolder() {
    std::error_code ec;
    if (!released_) fs::remove_all(path_, ec);
  }
  [[nodiscard]] const fs::path& path() const { return path_; }
  void release() { released_ = true; }

 private:
  fs::path path_;
  bool released_ = false;
};

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw_error(ErrorKind::Io, fmt::format("cannot write {}", path.string()));
}

// Triton's model configuration, in protobuf text format.
std::string config_pbtxt(const std::string& name, const Classifier& classifier, std::int64_t max_batch,
                         std::int64_t delay_us) {
  const auto& sig = classifier.signature();
  const auto classes = classifier.labels().size();
  // A model exported for a fixed batch takes exactly that batch: Triton's
  // batching is off and the dims include it.
  const bool batching = sig.fixed_batch <= 0;
  const std::string batch_dim = batching ? "" : fmt::format("{}, ", sig.fixed_batch);
  std::string text = fmt::format(
      "name: \"{}\"\n"
      "platform: \"onnxruntime_onnx\"\n"
      "max_batch_size: {}\n"
      "input [\n"
      "  {{\n"
      "    name: \"{}\"\n"
      "    data_type: TYPE_FP32\n"
      "    dims: [ {}3, {}, {} ]\n"
      "  }}\n"
      "]\n"
      "output [\n"
      "  {{\n"
      "    name: \"{}\"\n"
      "    data_type: TYPE_FP32\n"
      "    dims: [ {}{} ]\n"
      "    label_filename: \"labels.txt\"\n"
      "  }}\n"
      "]\n",
      name, batching ? max_batch : 0, sig.input_name, batch_dim, sig.height, sig.width, sig.output_name, batch_dim,
      classes);
  if (batching) {
    text += fmt::format(
        "dynamic_batching {{\n"
        "  max_queue_delay_microseconds: {}\n"
        "}}\n",
        delay_us);
  }
  return text;
}

int write_repository(const TritonArgs& args) {
  const fs::path model_path(args.model);
  const std::string name = args.name.empty() ? model_path.stem().string() : args.name;
  (void)serve::parse_model_spec(name + "=" + args.model);  // the name's rules are serve's
  const fs::path repository(args.repository);
  if (!fs::is_directory(repository)) {
    throw_error(ErrorKind::Usage,
                fmt::format("{} is not a folder; create the repository folder first", repository.string()));
  }
  const fs::path entry = repository / name;
  if (fs::exists(fs::symlink_status(entry)) && !args.force) {
    throw_error(ErrorKind::Usage,
                fmt::format("{} exists; pass --force to replace it, or --name to write another", entry.string()));
  }
  // Loads the model as serve would: only an image classifier it can serve is written.
  const Classifier classifier = Classifier::load(model_path);

  TemporaryFolder temp(repository / fmt::format(".{}.tmp-{}", name, ::getpid()));
  fs::create_directories(temp.path() / "1");
  fs::copy_file(model_path, temp.path() / "1" / "model.onnx");
  write_text(temp.path() / "config.pbtxt",
             config_pbtxt(name, classifier, args.max_batch, static_cast<std::int64_t>(args.max_queue_delay_ms * 1000)));
  std::string labels;
  for (const auto& label : classifier.labels()) labels += label + "\n";
  write_text(temp.path() / "labels.txt", labels);
  if (fs::exists(fs::symlink_status(entry))) {
    // --force: the old entry moves aside first, and goes only once the new one is in place.
    const TemporaryFolder old(repository / fmt::format(".{}.old-{}", name, ::getpid()));
    fs::remove(old.path());
    fs::rename(entry, old.path());
    fs::rename(temp.path(), entry);
  } else {
    fs::rename(temp.path(), entry);
  }
  temp.release();
  fmt::print("Wrote the Triton model repository entry {}: 1/model.onnx, config.pbtxt, labels.txt\n", entry.string());
  return 0;
}

}  // namespace

void add_triton_repo_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<TritonArgs>();
  auto* cmd = app.add_subcommand(
      "triton-repo",
      "Write a Triton model repository entry for a model (DIR/NAME/1/model.onnx, config.pbtxt with dynamic "
      "batching, labels.txt): the same model and protocol on Triton or KServe, no client changed");
  cmd->add_option("model", args->model, "The ONNX model (a pt2onnx export)")->required()->check(CLI::ExistingFile);
  cmd->add_option("repository", args->repository, "The model repository folder (must exist)")->required();
  cmd->add_option("--name", args->name, "The model's name in the repository (default: the file's stem)");
  cmd->add_option("--max-batch", args->max_batch, "max_batch_size: most images Triton merges into one run")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{4096}));
  cmd->add_option("--max-queue-delay-ms", args->max_queue_delay_ms,
                  "dynamic_batching's max_queue_delay, in milliseconds")
      ->capture_default_str()
      ->check(finite_in(0, 10000));
  cmd->add_flag("--force", args->force, "Replace an existing entry of that name");
  cmd->callback([&action, args] { action = [args] { return write_repository(*args); }; });
}

}  // namespace pt2onnx::cli
