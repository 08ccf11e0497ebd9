// pt2onnx::runtime::Model: load, check, optimize once; compile and cache a
// plan per set of input shapes (oneDNN primitives have fixed shapes), run.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <list>
#include <map>
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
  std::mutex mutex;                            // guards plans, every Compiled::idle and choices
  std::list<std::shared_ptr<Compiled>> plans;  // most recently used first
  // Team or one thread, per set of input shapes (Options::adaptive_team).
  std::map<std::vector<Shape>, TeamChoice> choices;
  std::atomic<std::uint64_t> team_runs{0};
  std::atomic<std::uint64_t> single_runs{0};

  // Set when a batch may run as one image per thread (batch_split.h).
  bool split_batch = false;

  void check_inputs(std::span<const Tensor> given) const;
  // With the mutex held; `threads` is the team size the run will use.
  std::shared_ptr<Compiled> plan_for(const std::vector<Shape>& shapes, int threads);
  // A plan for these shapes and an instance of it to run outside the lock.
  struct Borrowed {
    std::shared_ptr<Compiled> compiled;
    std::unique_ptr<PlanInstance> instance;
    bool fresh = false;  // made for this run: its first run touches new memory
  };
  Borrowed borrow(const std::vector<Shape>& shapes, int threads);
  void give_back(Compiled& compiled, std::unique_ptr<PlanInstance> instance);
  std::vector<Tensor> run_split(const std::vector<Tensor>& inputs);
  // The whole batch on the calling thread's OpenMP team: up to `team` threads
  // (CpuShare), or one when TeamChoice finds that faster and `adaptive`.
  std::vector<Tensor> run_team(std::span<const Tensor> inputs, int team, bool adaptive);
};

Model::Impl::Borrowed Model::Impl::borrow(const std::vector<Shape>& shapes, int team) {
  Borrowed b;
  {
    std::lock_guard lock(mutex);
    b.compiled = plan_for(shapes, team);
    if (!b.compiled->idle.empty()) {
      b.instance = std::move(b.compiled->idle.back());
      b.compiled->idle.pop_back();
    }
  }
  if (!b.instance) {
    b.instance = std::make_unique<PlanInstance>(b.compiled->plan, engine, options.huge_pages);
    b.fresh = true;
  }
  return b;
}

void Model::Impl::give_back(Compiled& compiled, std::unique_ptr<PlanInstance> instance) {
  std::lock_guard lock(mutex);
  compiled.idle.push_back(std::move(instance));
}

std::vector<Tensor> Model::Impl::run_team(std::span<const Tensor> given, int wanted, bool adaptive) {
  std::vector<Shape> shapes;
  std::vector<const Tensor*> ptrs;
  for (const auto& t : given) {
    shapes.push_back(t.shape());
    ptrs.push_back(&t);
  }
  adaptive = adaptive && wanted > 1;
  int choice = wanted;
  if (adaptive) {
    std::lock_guard lock(mutex);
    if (choices.size() >= kMaxCachedPlans) choices.clear();  // shapes seen once; measured again if seen again
    choice = choices.try_emplace(shapes, wanted).first->second.next();
  }
  const CpuShare share(choice);
  const int team = share.count();
  if (wanted > 1) (team > 1 ? team_runs : single_runs).fetch_add(1, std::memory_order_relaxed);
  // The OpenMP team size is per calling thread: each stream sets its own.
  set_thread_count(team);
  auto b = borrow(shapes, team);
  const auto start = std::chrono::steady_clock::now();
  auto results = b.instance->run(ptrs);  // a run that throws drops its instance
  const auto took = std::chrono::steady_clock::now() - start;
  give_back(*b.compiled, std::move(b.instance));
  // A fresh instance's first run is slower (new memory); a run that got fewer
  // threads than chosen measures neither alternative.
  if (adaptive && !b.fresh && team == choice) {
    std::lock_guard lock(mutex);
    if (auto it = choices.find(shapes); it != choices.end()) it->second.record(team, took);
  }
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
  auto borrowed = borrow(row_shapes, 1);
  const std::shared_ptr<Compiled> compiled = borrowed.compiled;  // (a lambda below captures it)
  std::vector<Tensor> results;
  for (auto shape : compiled->plan->output_shapes) {
    shape[0] = batch;
    results.emplace_back(DType::Float32, std::move(shape));
  }
  std::atomic<std::int64_t> next{0};
  auto work = [&](std::unique_ptr<PlanInstance> instance) {
    set_thread_count(1);
    if (!instance) instance = borrow(row_shapes, 1).instance;
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
  const CpuShare share(static_cast<int>(std::min<std::int64_t>(threads, batch)));
  const auto workers = static_cast<std::size_t>(share.count());
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
      work(std::move(borrowed.instance));
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
  if (options.threads > max_threads()) {
    throw_error(ErrorKind::Usage, fmt::format("thread count {} is more than the {} this process may start (8 per CPU "
                                              "it may use)",
                                              options.threads, max_threads()));
  }
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
    if (options.optimize) run_passes(g, options.disabled_passes);
    check_supported(g);
    for (std::size_t i = 0; i < g.outputs().size(); ++i) {
      impl->outputs.push_back(output_info(g, g.outputs()[i], loaded.output_names[i], loaded.symbols));
    }
    impl->split_batch = options.split_batch && independent_batch_symbol(g).has_value() && batch_split_pays(g);
    impl->graph = std::move(g);
  });
  return Model(std::move(impl));
}

const std::vector<TensorInfo>& Model::inputs() const { return impl_->inputs; }
const std::vector<TensorInfo>& Model::outputs() const { return impl_->outputs; }
int Model::threads() const { return impl_->threads; }

Model::TeamRuns Model::team_runs() const {
  return {impl_->team_runs.load(std::memory_order_relaxed), impl_->single_runs.load(std::memory_order_relaxed)};
}

std::vector<Tensor> Model::run(const std::vector<Tensor>& inputs) {
  impl_->check_inputs(inputs);
  if (impl_->split_batch && impl_->threads > 1 && !inputs.empty() && inputs[0].rank() > 0 && inputs[0].dim(0) > 1) {
    return impl_->run_split(inputs);
  }
  return impl_->run_team(inputs, impl_->threads, impl_->options.adaptive_team);
}

std::vector<Tensor> Model::run_on_calling_thread(std::span<const Tensor> inputs) {
  impl_->check_inputs(inputs);
  const ScopedThreadCount scoped(1);  // the caller's own OpenMP setting comes back after
  return impl_->run_team(inputs, 1, false);
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
