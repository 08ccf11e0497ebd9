// Replaces shape computations whose inputs are known by their values: the
// Shape -> Gather -> Unsqueeze -> Concat -> Reshape chains torch.onnx.export
// writes for x.view(x.size(0), -1) fold once the batch is known (at plan
// time), and anything built only from initializers folds at load.
#include "runtime/constant_eval.h"
#include "runtime/passes/pass.h"

namespace pt2onnx::runtime {
namespace {

class FoldConstants final : public Pass {
 public:
  [[nodiscard]] std::string_view name() const override { return "fold_constants"; }

  [[nodiscard]] bool match(const Graph& g, NodeId id) const override { return can_evaluate(g, g.node(id)); }
  // ShuffleNet's channel shuffles: each block's Reshape target comes from the
  // Shape of the block before's output.
  [[nodiscard]] bool needs_fresh_shapes() const override { return true; }

  void apply(Graph& g, NodeId id) const override {
    auto values = evaluate(g, g.node(id));
    const auto outputs = g.node(id).outputs;
    g.remove_node(id);
    for (std::size_t i = 0; i < outputs.size() && i < values.size(); ++i) {
      auto& v = g.value(outputs[i]);
      v.dtype = values[i].dtype();
      v.dims = dims_from_values(values[i].shape());
      v.constant = std::make_shared<const Tensor>(std::move(values[i]));
    }
  }
};

}  // namespace

std::unique_ptr<Pass> make_fold_constants() { return std::make_unique<FoldConstants>(); }

}  // namespace pt2onnx::runtime
