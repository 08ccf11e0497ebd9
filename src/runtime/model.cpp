// pt2onnx::runtime::Model: load, check, optimize once; compile and cache a
// plan per set of input shapes (oneDNN primitives have fixed shapes), run.
#include <algorithm>
#include <atomic>
#include <list>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "pt2onnx/runtime.h"
#include "runtime/batch_split.h"
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

  // A compiled plan and its idle instances. A run borrows an instance (or
  // makes one: the first run of each concurrent stream), runs it outside the
  // lock and gives it back, so concurrent runs share the plan and the weights
  // and each has its own arena.
  struct Compiled {
    std::vector<Shape> shapes;
    int threads = 1;  // the team size its primitives were created for
    std::shared_ptr<const Plan> plan;
    std::vector<std::unique_ptr<PlanInstance>> idle;
  };
  std::mutex mutex;                            // guards plans and every Compiled::idle
  std::list<std::shared_ptr<Compiled>> plans;  // most recently used first

  // Set when a batch may run as one image per thread (batch_split.h).
  bool split_batch = false;

  void check_inputs(std::span<const Tensor> given) const;
  // With the mutex held; `threads` is the team size the run will use.
  std::shared_ptr<Compiled> plan_for(const std::vector<Shape>& shapes, int threads);
  // A plan for these shapes and an instance of it to run outside the lock.
  std::pair<std::shared_ptr<Compiled>, std::unique_ptr<PlanInstance>> borrow(const std::vector<Shape>& shapes,
                                                                             int threads);
  void give_back(Compiled& compiled, std::unique_ptr<PlanInstance> instance);
  std::vector<Tensor> run_split(const std::vector<Tensor>& inputs);
  // The whole batch on a team of `team` OpenMP threads of the calling thread.
  std::vector<Tensor> run_team(std::span<const Tensor> inputs, int team);
};

std::pair<std::shared_ptr<Model::Impl::Compiled>, std::unique_ptr<PlanInstance>> Model::Impl::borrow(
    const std::vector<Shape>& shapes, int team) {
  std::shared_ptr<Compiled> compiled;
  std::unique_ptr<PlanInstance> instance;
  {
    std::lock_guard lock(mutex);
    compiled = plan_for(shapes, team);
    if (!compiled->idle.empty()) {
      instance = std::move(compiled->idle.back());
      compiled->idle.pop_back();
    }
  }
  if (!instance) instance = std::make_unique<PlanInstance>(compiled->plan, engine, options.huge_pages);
  return {std::move(compiled), std::move(instance)};
}

void Model::Impl::give_back(Compiled& compiled, std::unique_ptr<PlanInstance> instance) {
  std::lock_guard lock(mutex);
  compiled.idle.push_back(std::move(instance));
}

std::vector<Tensor> Model::Impl::run_team(std::span<const Tensor> given, int team) {
  std::vector<Shape> shapes;
  std::vector<const Tensor*> ptrs;
  for (const auto& t : given) {
    shapes.push_back(t.shape());
    ptrs.push_back(&t);
  }
  // The OpenMP team size is per calling thread: each stream sets its own,
  // before compiling (weight reorders run in parallel too).
  set_thread_count(team);
  auto [compiled, instance] = borrow(shapes, team);
  auto results = instance->run(ptrs);  // a run that throws drops its instance
  give_back(*compiled, std::move(instance));
  return results;
}

// One image per thread: `threads` workers (the caller and threads - 1 more),
// each with one OpenMP thread and its own batch-1 instance, take images in
// turn and write their rows of the outputs.
std::vector<Tensor> Model::Impl::run_split(const std::vector<Tensor>& given) {
  const auto batch = given[0].dim(0);
  std::vector<Shape> row_shapes;
  for (const auto& t : given) {
    row_shapes.push_back(t.shape());
    row_shapes.back()[0] = 1;
  }
  set_thread_count(1);
  auto [compiled, first] = borrow(row_shapes, 1);
  std::vector<Tensor> results;
  for (auto shape : compiled->plan->output_shapes) {
    shape[0] = batch;
    results.emplace_back(DType::Float32, std::move(shape));
  }
  std::atomic<std::int64_t> next{0};
  auto work = [&](std::unique_ptr<PlanInstance> instance) {
    set_thread_count(1);
    if (!instance) instance = borrow(row_shapes, 1).second;
    std::vector<const std::byte*> in(given.size());
    std::vector<std::byte*> out(results.size());
    for (auto i = next++; i < batch; i = next++) {
      const auto row = static_cast<std::size_t>(i);
      for (std::size_t k = 0; k < given.size(); ++k) {
        in[k] = given[k].bytes().data() + row * (given[k].nbytes() / static_cast<std::size_t>(batch));
      }
      for (std::size_t k = 0; k < results.size(); ++k) {
        out[k] = results[k].bytes().data() + row * (results[k].nbytes() / static_cast<std::size_t>(batch));
      }
      instance->run_into(in, out);
    }
    give_back(*compiled, std::move(instance));
  };
  const auto workers = static_cast<std::size_t>(std::min<std::int64_t>(threads, batch));
  std::vector<std::exception_ptr> errors(workers);
  {
    std::vector<std::jthread> helpers;
    for (std::size_t w = 1; w < workers; ++w) {
      helpers.emplace_back([&, w] {
        try {
          work(nullptr);
        } catch (...) {
          errors[w] = std::current_exception();
        }
      });
    }
    try {
      work(std::move(first));
    } catch (...) {
      errors[0] = std::current_exception();
    }
  }
  set_thread_count(threads);
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  return results;
}

void Model::Impl::check_inputs(std::span<const Tensor> given) const {
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

std::shared_ptr<Model::Impl::Compiled> Model::Impl::plan_for(const std::vector<Shape>& shapes, int team) {
  auto it = std::find_if(plans.begin(), plans.end(),
                         [&](const auto& c) { return c->shapes == shapes && c->threads == team; });
  if (it != plans.end()) {
    plans.splice(plans.begin(), plans, it);
    return plans.front();
  }
  PlanOptions po{options.optimize, options.disabled_passes};
  auto c = std::make_shared<Compiled>();
  c->shapes = shapes;
  c->threads = team;
  // oneDNN sizes each primitive's work split for the team size current at
  // creation, so the plan is compiled, and cached, per thread count.
  const ScopedThreadCount scoped(team);
  c->plan = with_error_context(source, [&] { return compile_plan(graph, shapes, po, engine, weights); });
  plans.push_front(c);
  // An evicted plan lives on while a run still holds it.
  if (plans.size() > kMaxCachedPlans) plans.pop_back();
  return c;
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
  impl->threads = options.threads > 0 ? options.threads : default_threads();
  impl->weights.set_huge_pages(options.huge_pages);
  impl->inputs = std::move(loaded.inputs);
  with_error_context(impl->source, [&] {
    auto& g = loaded.graph;
    infer_shapes(g);
    if (options.optimize) run_pipeline(g, options.disabled_passes);
    check_supported(g);
    for (std::size_t i = 0; i < g.outputs().size(); ++i) {
      impl->outputs.push_back(output_info(g, g.outputs()[i], loaded.output_names[i], loaded.symbols));
    }
    impl->split_batch = options.split_batch && independent_batch_symbol(g).has_value();
    impl->graph = std::move(g);
  });
  return Model(std::move(impl));
}

const std::vector<TensorInfo>& Model::inputs() const { return impl_->inputs; }
const std::vector<TensorInfo>& Model::outputs() const { return impl_->outputs; }
int Model::threads() const { return impl_->threads; }

std::vector<Tensor> Model::run(const std::vector<Tensor>& inputs) {
  impl_->check_inputs(inputs);
  if (impl_->split_batch && impl_->threads > 1 && !inputs.empty() && inputs[0].rank() > 0 && inputs[0].dim(0) > 1) {
    return impl_->run_split(inputs);
  }
  return impl_->run_team(inputs, impl_->threads);
}

std::vector<Tensor> Model::run_on_calling_thread(std::span<const Tensor> inputs) {
  impl_->check_inputs(inputs);
  const ScopedThreadCount scoped(1);  // the caller's own OpenMP setting comes back after
  return impl_->run_team(inputs, 1);
}

bool Model::splits_batch() const { return impl_->split_batch; }

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
