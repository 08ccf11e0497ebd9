// From a PyTorch checkpoint to a checked ONNX model, as calls: what `pt2onnx
// export` and `pt2onnx verify` do, for a C++ program that embeds pt2onnx
// instead of running the command (examples/export).
//
// Errors are pt2onnx::Error (pt2onnx/error.h) of the kind the command turns into
// its exit code: Usage for a bad request (its messages name the command's flag
// for each field: --labels, --resize, ...), BadInput for an unreadable or
// malformed checkpoint, Unsupported for an architecture pt2onnx does not
// rebuild, VerifyFailed when the export does not reproduce the checkpoint, Io
// for a file that cannot be written. A failed export leaves nothing at the
// output path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pt2onnx {

inline constexpr char kAutoArchitecture[] = "auto";
inline constexpr int kDefaultOpset = 17;  // the seed script's opset_version

// How far an exported model's outputs may be from the checkpoint's, computed
// by pt2onnx's independent reference (docs/verification.md). A probe passes
// when its largest difference is within max(atol + rtol * its largest
// |reference logit|, spread_multiple * its float32 spread).
struct Tolerance {
  double atol = 1e-2;  // the seed script's tolerance on logits
  double rtol = 1e-3;  // relative part, so logits in the hundreds are judged fairly
  // How many times its float32 spread (how far the reference itself moves when
  // float32 rounds differently) a probe's difference may reach; 0: no such
  // allowance. Correct exports of the test corpus reached 25 times on a
  // constant image.
  double spread_multiple = 32.0;
};

// What the checkpoint's tensors do not say about the model.
struct ModelChoice {
  // A registered architecture ("resnet50", "efficientnet_b0", ...), or
  // kAutoArchitecture: identified from the tensors' names and shapes.
  std::string arch = kAutoArchitecture;
  // GoogLeNet and Inception V3: whether the model re-normalises its input
  // (torchvision's transform_input). nullopt: on when the checkpoint has no
  // auxiliary classifiers (fine-tuned from torchvision's weights).
  std::optional<bool> transform_input;
  // The classifier head's modules, as `--head` takes them
  // ("dropout(0.4),linear,relu,dropout(0.2),linear"); empty: read from the
  // checkpoint.
  std::string head;
  // The square image size to export at; nullopt: the size the model was
  // trained at (the family's, or a ViT's from its position embedding).
  // Convolutional families take any size their layers allow. A ViT's position
  // embedding fits only its trained size: another is refused unless
  // interpolate_position_embedding, which resizes it as torchvision's
  // interpolate_embeddings does (bicubic, corners aligned).
  std::optional<std::int64_t> image_size;
  bool interpolate_position_embedding = false;
};

// The training preprocessing recorded in the model for `pt2onnx infer`, in the
// text forms of export's flags; an unset part takes the architecture's default.
struct PreprocessFlags {
  std::optional<std::string> resize;         // "HxW" or "N" (shorter side to N; needs crop)
  std::optional<std::string> crop;           // "HxW", "N" or "none"
  std::optional<std::string> interpolation;  // nearest | bilinear | bicubic
  std::optional<std::string> mean;           // "r,g,b", on [0, 1] pixels
  std::optional<std::string> std;            // "r,g,b"
  [[nodiscard]] bool any() const { return resize || crop || interpolation || mean || std; }
};

// What a call says along the way, for a person watching: the lines the
// command prints, each ending in '\n', from the calling thread.
using Progress = std::function<void(std::string_view text)>;

struct ExportRequest {
  std::filesystem::path checkpoint;  // .pth / .pt (torch.save, zip or legacy) or .safetensors
  // Empty: the checkpoint's path with the extension .onnx. A symlink's target
  // is replaced; a FIFO, a character device or "-" (standard output) is
  // streamed into.
  std::filesystem::path output;
  std::string key;  // where the state dict sits in the checkpoint; empty: found
  ModelChoice choice;
  double dropout = 0.4;  // the training model's classifier dropout (recorded; off in eval)
  int opset = kDefaultOpset;
  // Output names; nullopt: the checkpoint's 'labels' entry, else none.
  std::optional<std::vector<std::string>> labels;
  PreprocessFlags preprocessing;
  bool verify = true;  // compare the written model with the reference before it reaches the output
  Tolerance tolerance;
};

struct ExportResult {
  std::filesystem::path output;
  std::string arch;          // the registered name: "resnet18"
  std::string display_name;  // "ResNet-18"
  std::int64_t channels = 3;
  std::int64_t input_size = 224;
  std::int64_t num_outputs = 0;
  std::uint64_t file_bytes = 0;
  std::optional<std::vector<std::string>> labels;
  std::vector<std::string> notes;  // what was decided for the user (dropped tensors, the head)
  bool verified = false;
  double max_abs_diff = 0.0;  // the largest difference over the probes, when verified
};

ExportResult export_checkpoint(const ExportRequest& request, const Progress& progress = {});

struct VerifyRequest {
  std::filesystem::path model;       // the exported .onnx file
  std::filesystem::path checkpoint;  // the checkpoint it came from
  std::string key;
  ModelChoice choice;
  Tolerance tolerance;
  int threads = 0;  // the engine's threads; 0: one (the reference runs beside it)
};

struct VerifyResult {
  bool passed = false;
  double max_abs_diff = 0.0;
  std::string json;  // the whole report, as `pt2onnx verify --json` writes it
};

// A model that runs but disagrees is a result with passed == false, not an error.
VerifyResult verify_export(const VerifyRequest& request, const Progress& progress = {});

}  // namespace pt2onnx
