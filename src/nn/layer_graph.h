// The layer graph: an architecture described as torchvision describes it, one
// layer per leaf module (or functional op), named by its module path, so that a
// checkpoint's keys bind to it one to one. Builders in src/models make graphs;
// the binder fills in weights; the reference runs them; the exporter lowers them.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "pt2onnx/tensor.h"

namespace pt2onnx::nn {

enum class LayerKind {
  Conv2d,
  BatchNorm2d,
  ReLU,
  ReLU6,  // min(max(x, 0), 6)
  SiLU,
  Sigmoid,
  Hardswish,
  Hardsigmoid,
  AdaptiveAvgPool2d,  // AdaptivePoolAttrs, or none for output 1x1
  MaxPool2d,
  AvgPool2d,  // PoolAttrs, floor mode; padded cells count as zeros (torch's default count_include_pad)
  Mul,        // x * s, s broadcast over H and W (squeeze-excitation scale)
  Add,        // residual add, same shapes: inputs {branch, identity}
  Concat,     // torch.cat along channels of one or more [N, C_i, H, W] inputs
  Flatten,
  Dropout,          // identity in eval
  StochasticDepth,  // identity in eval; DropoutAttrs carries its training-time p
  Linear,
  ChannelAffine,   // x * scale[c] + shift[c] with constants (GoogLeNet's and Inception V3's transform_input)
  ChannelSlice,    // channels [begin, end) of [N, C, H, W] (ShuffleNet's x.chunk(2, dim=1))
  ChannelShuffle,  // ShuffleNet's channel_shuffle: view [N, g, C/g, H, W], transpose(1, 2), view back
  // ConvNeXt's pieces, all on [N, C, H, W] (torchvision permutes to channels-last and back around them):
  LayerNorm2d,      // LayerNorm over the channels of each pixel; LayerNormAttrs; weight and bias [C]
  PointwiseLinear,  // nn.Linear applied to each pixel's channels; LinearAttrs; weight [out, in] as Linear's
  GELU,             // exact (erf) GELU
  LayerScale,       // x * layer_scale[c]; the parameter [C, 1, 1] is the module's own ("features.1.0.layer_scale")
  // The vision transformers' pieces, on token sequences [N, L, D]:
  PatchTokens,  // [N, D, h, w] -> [N, h * w, D]: ViT's reshape and permute after its patch convolution
  ClassToken,  // prepends the parameter [1, 1, D] to each sequence; TokenAttrs; the layer's path is the parameter's key
  PositionEmbedding,   // x + the parameter [1, L, D]; TokenAttrs; the layer's path is the parameter's key
  LayerNorm,           // nn.LayerNorm over the last axis; LayerNormAttrs (channels: D); weight and bias [D]
  TokenLinear,         // nn.Linear on the last axis; LinearAttrs
  MultiheadAttention,  // nn.MultiheadAttention(batch_first=True) as self-attention, eval; AttentionAttrs
  FirstToken,          // x[:, 0]: [N, L, D] -> [N, D] (the class token's output)
  // Swin's pieces, on the tokens [N, h * w, C] of an h x w grid (torchvision keeps them as [N, h, w, C]):
  WindowAttention,  // ShiftedWindowAttention: attention within w x w windows, shifted or not; WindowAttrs
  PatchMerging,     // PatchMerging: 2x2 neighbours side by side, LayerNorm(4C), Linear(4C, 2C) without bias
  TokenMean,        // the mean over the tokens: [N, L, D] -> [N, D] (Swin's permute, avgpool and flatten)
  // MaxViT's pieces: its attention runs on [N, C, H, W] cut into groups of window x window tokens.
  Partition,    // [N, C, H, W] -> the tokens [N, H * W, C], group by group (WindowPartition, SwapAxes); PartitionAttrs
  Departition,  // the inverse of Partition (SwapAxes, WindowDepartition); PartitionAttrs
  GroupAttention,  // RelativePositionalMultiHeadAttention within each group of window^2 tokens; WindowAttrs, no shift
  Tanh,
  // Not a layer kind: the number of them, which sizes the table of kinds (layer_kinds.cpp).
  Count,
};

inline constexpr std::size_t kLayerKindCount = static_cast<std::size_t>(LayerKind::Count);

// Read from the table of kinds in layer_kinds.cpp.
std::string_view layer_kind_name(LayerKind kind);  // "Conv2d", ...

// How many inputs a layer of `kind` reads: two for Mul and Add, one or more
// for Concat, one for every other kind.
bool input_count_fits(LayerKind kind, std::size_t count);
std::string expected_input_count(LayerKind kind);  // "2", "1 or more", "1"

struct Conv2dAttrs {
  std::int64_t in_channels = 0;
  std::int64_t out_channels = 0;
  std::int64_t kernel[2] = {1, 1};
  std::int64_t stride[2] = {1, 1};
  std::int64_t padding[2] = {0, 0};  // symmetric, as torch.nn.Conv2d
  std::int64_t dilation[2] = {1, 1};
  std::int64_t groups = 1;
  bool bias = false;
};

struct BatchNormAttrs {
  std::int64_t num_features = 0;
  double eps = 1e-5;
};

struct LinearAttrs {
  std::int64_t in_features = 0;
  std::int64_t out_features = 0;
  bool bias = true;
};

struct PoolAttrs {
  std::int64_t kernel[2] = {1, 1};
  std::int64_t stride[2] = {1, 1};
  std::int64_t padding[2] = {0, 0};
  // torch's ceil_mode: the last window may overhang the end (never starting
  // in the end padding); its outside cells are ignored (MaxPool2d only).
  bool ceil_mode = false;
};

// nn.AdaptiveAvgPool2d((h, w)): window i of n over a size-L axis spans
// [floor(i L / n), ceil((i + 1) L / n)).
struct AdaptivePoolAttrs {
  std::int64_t output[2] = {1, 1};
};

struct DropoutAttrs {
  double p = 0.0;
};

struct FlattenAttrs {
  std::int64_t start_dim = 1;
};

struct ChannelSliceAttrs {
  std::int64_t begin = 0;
  std::int64_t end = 0;
};

struct ChannelShuffleAttrs {
  std::int64_t groups = 2;
  std::int64_t channels = 0;  // of its input
};

struct LayerNormAttrs {
  std::int64_t channels = 0;
  double eps = 1e-6;
};

struct LayerScaleAttrs {
  std::int64_t channels = 0;
};

// A token sequence's length L (with the class token where it has one) and width D.
struct TokenAttrs {
  std::int64_t length = 0;
  std::int64_t dim = 0;
};

struct AttentionAttrs {
  std::int64_t dim = 0;  // embed_dim
  std::int64_t heads = 1;
};

// Swin's attention in windows of `window` x `window` tokens over a grid of
// grid[0] x grid[1] tokens, cyclically shifted by `shift` first when it is
// not zero (torchvision sets the shift to 0 where the window covers the padded grid).
struct WindowAttrs {
  std::int64_t dim = 0;
  std::int64_t heads = 1;
  std::int64_t window = 7;
  std::int64_t shift = 0;
  std::array<std::int64_t, 2> grid{0, 0};  // the input's token grid, kept by set_token_grids()
};

struct PatchMergingAttrs {
  std::int64_t dim = 0;                    // the input's channels C
  double eps = 1e-5;                       // its LayerNorm's
  std::array<std::int64_t, 2> grid{0, 0};  // the input's token grid, kept by set_token_grids()
};

// MaxViT's partitions of an H x W map into groups of window x window cells:
// a "window" group is a window x window block of neighbours; a "grid" group
// takes every (H / window)-th row and (W / window)-th column, one cell from
// each block. Tokens run group by group, row-major within a group.
struct PartitionAttrs {
  std::int64_t channels = 0;
  std::int64_t window = 7;
  bool grid_groups = false;                // false: block-attention windows; true: grid-attention groups
  std::array<std::int64_t, 2> grid{0, 0};  // the map's H and W, kept by set_token_grids()
};

struct ChannelAffineAttrs {
  std::vector<double> scale;  // one per channel
  std::vector<double> shift;
};

using LayerAttrs =
    std::variant<std::monostate, Conv2dAttrs, BatchNormAttrs, LinearAttrs, PoolAttrs, DropoutAttrs, FlattenAttrs,
                 AdaptivePoolAttrs, ChannelAffineAttrs, ChannelSliceAttrs, ChannelShuffleAttrs, LayerNormAttrs,
                 LayerScaleAttrs, TokenAttrs, AttentionAttrs, WindowAttrs, PatchMergingAttrs, PartitionAttrs>;

using ValueId = int;  // an activation; 0 is the graph input

// One expected parameter or buffer: local name ("weight", "running_mean") and shape.
// An empty local name is a bare nn.Parameter that is the layer itself (ViT's
// class_token): its key is the layer's path.
// An integer buffer (Swin's relative_position_index) is bound as float32 too:
// its values are small indices, exact in float32.
struct ParamSpec {
  std::string local_name;
  Shape shape;
  bool is_buffer = false;
  bool integer = false;  // the checkpoint holds it as an integer tensor
};

// The state-dict key of a layer's parameter: "features.0.0" + "weight", or
// the path alone for an empty local name.
std::string state_key(const std::string& path, const std::string& local_name);

// torchvision's relative_position_index of a window x window attention
// window: for query token i and key token j (row-major in the window), the row
// of relative_position_bias_table that holds their bias, at i * window^2 + j.
std::vector<std::int64_t> relative_position_index(std::int64_t window);

struct Layer {
  LayerKind kind{};
  // torchvision module path: "features.1.0.block.0.0". A functional op takes the
  // path of the module whose forward() performs it (an MBConv's residual Add is
  // "features.2.1", a squeeze-excitation's Mul "features.2.1.block.2"); a module
  // called more than once gets torch.onnx's scope suffixes ("layer1.0.relu_1");
  // the top-level torch.flatten is "flatten". Paths are unique within a graph.
  std::string path;
  std::vector<ValueId> inputs;
  ValueId output = -1;
  LayerAttrs attrs;
  // Filled by bind(): local name -> float32 tensor.
  std::map<std::string, Tensor> params;

  // The parameters and buffers this layer expects, in torch's registration order.
  [[nodiscard]] std::vector<ParamSpec> expected_params() const;
  // An AdaptiveAvgPool2d's output size: its attributes, or 1x1 without them.
  [[nodiscard]] AdaptivePoolAttrs adaptive_output() const;
  // Its output's [height, width] for an input of `in`, or nullopt once the
  // value is no longer an image (Flatten, Linear).
  [[nodiscard]] std::optional<std::array<std::int64_t, 2>> output_spatial(const std::array<std::int64_t, 2>& in) const;
  template <typename T>
  [[nodiscard]] const T& as() const {
    return std::get<T>(attrs);
  }
};

struct ModelOptions {
  ModelOptions(std::int64_t outputs = 2, double dropout_p = 0.2)  // NOLINT(google-explicit-constructor): {n, p}
      : num_outputs(outputs), dropout(dropout_p) {}
  std::int64_t num_outputs;
  double dropout;
  // GoogLeNet's and Inception V3's transform_input; unset: chosen from the
  // checkpoint (on when it has no training-only tensors, see LayerGraph::training_only).
  std::optional<bool> transform_input;
  bool has_training_only_tensors = false;  // set by the registry from the checkpoint
  // The square image size the checkpoint was trained at, where its tensors
  // say it (a ViT's position embedding); unset: the family's default.
  std::optional<std::int64_t> image_size;
};

struct LayerGraph {
  std::string arch;           // "efficientnet_b0"
  std::vector<Layer> layers;  // topological order
  ValueId input = 0;
  ValueId output = 0;
  int num_values = 1;
  std::int64_t input_channels = 3;
  std::int64_t input_size = 224;  // square H = W the family is trained at
  std::int64_t num_outputs = 0;
  // Module paths of parts only training runs (GoogLeNet's aux1 and aux2,
  // Inception V3's AuxLogits): a checkpoint may carry their tensors, which
  // binding drops with a note.
  std::vector<std::string> training_only;
  // What building and binding decided that the user should know, one sentence
  // each ("dropped 14 tensors of aux1, aux2 ..."); export and verify print them.
  std::vector<std::string> notes;

  // Adds a layer reading `inputs`, returns its output value.
  ValueId add(LayerKind kind, std::string path, std::vector<ValueId> inputs, LayerAttrs attrs = {});
  // Each value's [height, width] for an input of input_size x input_size,
  // or nullopt once a value is no longer an image (after Flatten, Linear).
  [[nodiscard]] std::vector<std::optional<std::array<std::int64_t, 2>>> spatial_sizes() const;
  // Full state-dict keys ("features.0.0.weight") with shapes, in registration order.
  [[nodiscard]] std::vector<std::pair<std::string, ParamSpec>> expected_state() const;
  // Writes each WindowAttention's, PatchMerging's, Partition's and Departition's input grid from
  // spatial_sizes(): after building, and again when the input size changes.
  void set_token_grids();
};

}  // namespace pt2onnx::nn
