// pt2onnx::runtime::Model: load, check, optimize once; compile and cache a
// plan per set of input shapes (oneDNN primitives have fixed shapes), run.
#include <algorithm>
#include <list>
#include <mutex>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "pt2onnx/runtime.h"
#include "runtime/onnx_loader.h"
#include "runtime/passes/pipeline.h"
#include "runtime/plan.h"
#include "runtime/planner.h"
#include "runtime/shape_inference.h"
#include "runtime/support.h"
#include "runtime/threads.h"

namespace pt2onnx::runtime {
namespace {

// Plans kept per model; a service seeing many batch sizes recompiles the
// least recently used rather than growing without bound.
constexpr std::size_t kMaxCachedPlans = 8;

std::string expected_shape(const TensorInfo& info) {
  std::vector<std::string> dims;
  for (std::size_t i = 0; i < info.shape.size(); ++i) {
    if (info.shape[i] >= 0) {
      dims.push_back(std::to_string(info.shape[i]));
    } else {
      dims.push_back(info.dim_params[i].empty() ? "?" : info.dim_params[i]);
    }
  }
  return fmt::format("[{}]", fmt::join(dims, ", "));
}

TensorInfo output_info(const Graph& g, ValueId v, const std::string& name, const std::vector<std::string>& symbols) {
  TensorInfo info;
  info.name = name;
  if (!g.value(v).dims) return info;
  for (const auto& d : *g.value(v).dims) {
    info.shape.push_back(d.is_known() ? d.value() : -1);
    info.dim_params.push_back(d.is_symbol() ? symbols.at(static_cast<std::size_t>(d.symbol_id())) : "");
  }
  return info;
}

}  // namespace

struct Model::Impl {
  std::string source;
  Graph graph;  // optimized with symbolic dims; specialised per plan
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  Options options;
  int threads = 1;
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  WeightCache weights{engine};

  struct Compiled {
    std::vector<Shape> shapes;
    std::shared_ptr<const Plan> plan;
    std::unique_ptr<PlanInstance> instance;
  };
  std::mutex mutex;
  std::list<Compiled> plans;  // most recently used first

  void check_inputs(const std::vector<Tensor>& given) const;
  Compiled& plan_for(const std::vector<Shape>& shapes);
};

void Model::Impl::check_inputs(const std::vector<Tensor>& given) const {
  if (given.size() != inputs.size()) {
    std::vector<std::string> names;
    for (const auto& i : inputs) names.push_back(i.name);
    throw_error(ErrorKind::BadInput, fmt::format("the model takes {} input(s) ({}), {} given", inputs.size(),
                                                 fmt::join(names, ", "), given.size()));
  }
  std::map<std::string, std::int64_t> params;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto& info = inputs[i];
    const auto& t = given[i];
    with_error_context(fmt::format("input '{}'", info.name), [&] {
      if (t.dtype() != DType::Float32) {
        throw_error(ErrorKind::BadInput, fmt::format("dtype is {}, expected float32", dtype_name(t.dtype())));
      }
      if (t.rank() != info.shape.size()) {
        throw_error(ErrorKind::BadInput,
                    fmt::format("shape {} has rank {}, expected rank {} {}", shape_to_string(t.shape()), t.rank(),
                                info.shape.size(), expected_shape(info)));
      }
      for (std::size_t d = 0; d < t.rank(); ++d) {
        const bool fixed = info.shape[d] >= 0;
        if (t.dim(d) <= 0 || (fixed && t.dim(d) != info.shape[d])) {
          throw_error(ErrorKind::BadInput,
                      fmt::format("shape {} does not match {} (dim {} is {}, expected {})", shape_to_string(t.shape()),
                                  expected_shape(info), d, t.dim(d),
                                  fixed ? std::to_string(info.shape[d]) : std::string("positive")));
        }
        if (!fixed && !info.dim_params[d].empty()) {
          auto [it, fresh] = params.emplace(info.dim_params[d], t.dim(d));
          if (!fresh && it->second != t.dim(d)) {
            throw_error(ErrorKind::BadInput, fmt::format("'{}' is {} here and {} in an earlier input",
                                                         info.dim_params[d], t.dim(d), it->second));
          }
        }
      }
    });
  }
}

Model::Impl::Compiled& Model::Impl::plan_for(const std::vector<Shape>& shapes) {
  auto it = std::find_if(plans.begin(), plans.end(), [&](const Compiled& c) { return c.shapes == shapes; });
  if (it != plans.end()) {
    plans.splice(plans.begin(), plans, it);
    return plans.front();
  }
  PlanOptions po{options.optimize, options.disabled_passes};
  auto plan = with_error_context(source, [&] { return compile_plan(graph, shapes, po, engine, weights); });
  Compiled c;
  c.shapes = shapes;
  c.instance = std::make_unique<PlanInstance>(plan, engine);
  c.plan = std::move(plan);
  plans.push_front(std::move(c));
  if (plans.size() > kMaxCachedPlans) plans.pop_back();
  return plans.front();
}

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Model Model::load(const std::filesystem::path& path, const Options& options) {
  check_pass_names(options.disabled_passes);
  if (options.threads < 0) throw_error(ErrorKind::Usage, fmt::format("thread count {} is negative", options.threads));
  auto loaded = load_onnx_file(path);
  auto impl = std::make_unique<Impl>();
  impl->source = fmt::format("file {}", path.string());
  impl->options = options;
  impl->threads = options.threads > 0 ? options.threads : physical_cores();
  impl->inputs = std::move(loaded.inputs);
  with_error_context(impl->source, [&] {
    auto& g = loaded.graph;
    infer_shapes(g);
    if (options.optimize) run_pipeline(g, options.disabled_passes);
    check_supported(g);
    for (std::size_t i = 0; i < g.outputs().size(); ++i) {
      impl->outputs.push_back(output_info(g, g.outputs()[i], loaded.output_names[i], loaded.symbols));
    }
    impl->graph = std::move(g);
  });
  return Model(std::move(impl));
}

const std::vector<TensorInfo>& Model::inputs() const { return impl_->inputs; }
const std::vector<TensorInfo>& Model::outputs() const { return impl_->outputs; }
int Model::threads() const { return impl_->threads; }

std::vector<Tensor> Model::run(const std::vector<Tensor>& inputs) {
  impl_->check_inputs(inputs);
  std::vector<Shape> shapes;
  std::vector<const Tensor*> ptrs;
  for (const auto& t : inputs) {
    shapes.push_back(t.shape());
    ptrs.push_back(&t);
  }
  // One run at a time per model for now; concurrent streams would each hold
  // their own PlanInstance over the shared Plan.
  std::lock_guard lock(impl_->mutex);
  set_thread_count(impl_->threads);
  auto& compiled = impl_->plan_for(shapes);
  return compiled.instance->run(ptrs);
}

std::vector<Tensor> Model::run_named(const std::map<std::string, Tensor>& inputs) {
  std::vector<Tensor> ordered;
  std::vector<std::string> names;
  for (const auto& info : impl_->inputs) names.push_back(info.name);
  for (const auto& [name, t] : inputs) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("the model has no input named '{}' (inputs: {})", name, fmt::join(names, ", ")));
    }
  }
  for (const auto& name : names) {
    auto it = inputs.find(name);
    if (it == inputs.end()) throw_error(ErrorKind::BadInput, fmt::format("input '{}' is not given", name));
    ordered.push_back(it->second);
  }
  return run(ordered);
}

}  // namespace pt2onnx::runtime
