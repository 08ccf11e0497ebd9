#include "serve/service.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <limits>

#include <fmt/format.h>
#include <malloc.h>

#include "common/metadata_keys.h"
#include "common/onnx_file.h"
#include "pt2onnx/error.h"

namespace pt2onnx::serve {

namespace {

using nlohmann::json;

[[noreturn]] void refuse(const std::string& message) { throw Error(ErrorKind::BadInput, message); }

std::string metadata_or(const std::map<std::string, std::string>& metadata, const char* key,
                        const std::string& fallback = "") {
  const auto it = metadata.find(key);
  return it == metadata.end() ? fallback : it->second;
}

std::string activation_name(ScoreActivation activation) {
  switch (activation) {
    case ScoreActivation::Sigmoid:
      return "sigmoid";
    case ScoreActivation::Softmax:
      return "softmax";
    case ScoreActivation::None:
      return "none";
  }
  return "none";
}

// The activation a request's "parameters" name, else nullopt.
std::optional<ScoreActivation> requested_activation(const json& parameters) {
  const auto it = parameters.find("activation");
  if (it == parameters.end()) return std::nullopt;
  if (!it->is_string()) refuse("request parameter \"activation\" must be a string (sigmoid, softmax or none)");
  return score_activation_named(it->get<std::string>());
}

// `count` encoded images preprocessed into one batch's floats: image i from
// the bytes encoded(i) returns, named name(i) in an error.
template <typename Encoded, typename Name>
std::vector<float> preprocessed(const Classifier& classifier, std::size_t count, const Encoded& encoded,
                                const Name& name) {
  const auto& sig = classifier.signature();
  const auto floats = static_cast<std::size_t>(3 * sig.height * sig.width);
  std::vector<float> data(count * floats);
  for (std::size_t i = 0; i < count; ++i) {
    classifier.preprocess(encoded(i), name(i), std::span<float>(data).subspan(i * floats, floats));
  }
  return data;
}

Classifier load_classifier(const std::filesystem::path& path, const ServeOptions& options) {
  ClassifierOptions classifier_options;
  classifier_options.threads = options.threads;
  classifier_options.activation = options.activation;
  return Classifier::load(path, classifier_options);
}

}  // namespace

Failure failure_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const NotFound& e) {
    return {FailureKind::NotFound, e.what()};
  } catch (const TooLarge& e) {
    return {FailureKind::TooLarge, e.what()};
  } catch (const Busy& e) {
    return {FailureKind::Busy, e.what()};
  } catch (const Abandoned& e) {
    return {FailureKind::Gone, e.what()};
  } catch (const Error& e) {
    const bool client = e.kind() == ErrorKind::BadInput || e.kind() == ErrorKind::Usage || e.kind() == ErrorKind::Io;
    return {client ? FailureKind::BadRequest : FailureKind::Internal, e.what()};
  } catch (const std::bad_alloc&) {
    return {FailureKind::OutOfMemory, "out of memory for this request"};
  } catch (const std::exception& e) {
    return {FailureKind::Internal, fmt::format("internal error: {}", e.what())};
  } catch (...) {
    return {FailureKind::Internal, "internal error: an unknown exception"};
  }
}

ScoreActivation score_activation_named(std::string_view name) {
  if (name == "sigmoid") return ScoreActivation::Sigmoid;
  if (name == "softmax") return ScoreActivation::Softmax;
  if (name == "none") return ScoreActivation::None;
  refuse(fmt::format("activation \"{}\" is not one of sigmoid, softmax, none", name));
}

ModelSpec parse_model_spec(std::string_view argument) {
  ModelSpec spec;
  const auto eq = argument.find('=');
  if (eq == std::string_view::npos) {
    spec.path = std::filesystem::path(argument);
    spec.name = spec.path.stem().string();
  } else {
    spec.name = std::string(argument.substr(0, eq));
    spec.path = std::filesystem::path(argument.substr(eq + 1));
  }
  const bool valid = !spec.name.empty() && std::all_of(spec.name.begin(), spec.name.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.';
  });
  if (!valid) {
    throw_error(ErrorKind::Usage,
                fmt::format("model name '{}' (from '{}'): a name is letters, digits, '-', '_' and '.'; give one as "
                            "NAME=PATH",
                            spec.name, argument));
  }
  if (spec.path.empty()) throw_error(ErrorKind::Usage, fmt::format("'{}' names no model file", argument));
  return spec;
}

ServedModel::ServedModel(ModelSpec spec, const ServeOptions& options, Metrics& metrics)
    : spec_(std::move(spec)), options_(options), classifier_(load_classifier(spec_.path, options)) {
  const auto header = read_onnx_model_header(spec_.path);
  producer_ = header.producer_name();
  if (!header.producer_version().empty()) producer_ += " " + header.producer_version();
  for (const auto& opset : header.opset_import()) {
    if (opset.domain().empty() || opset.domain() == "ai.onnx") opset_ = opset.version();
  }
  const auto& sig = classifier_.signature();
  BatcherOptions batching;
  batching.max_batch = options.max_batch > 0 ? options.max_batch : ServeOptions::kDefaultMaxBatch;
  if (sig.fixed_batch > 0) batching.max_batch = sig.fixed_batch;
  batching.max_delay = options.max_queue_delay;
  batching.max_queue_rows = options.max_queue;
  batching.row_shape = {3, sig.height, sig.width};
  for (std::int64_t rows = 1; rows < batching.max_batch; rows *= 2) run_sizes_.push_back(rows);
  run_sizes_.push_back(batching.max_batch);
  if (sig.fixed_batch > 0) run_sizes_ = {sig.fixed_batch};
  batcher_ = std::make_unique<Batcher>(
      batching, [this](const pt2onnx::Tensor& batch) { return run_engine(batch); },
      [this, &metrics](const BatchReport& report) {
        if (ready_) metrics.batch(spec_.name, report);
      });
}

ServedModel::~ServedModel() { batcher_->stop(); }

void ServedModel::warm_up() {
  // Through the batcher, on its worker: the engine then runs on that one
  // thread alone. A run on another thread (this one) would give the process a
  // second OpenMP thread pool, and with two pools every later run of the
  // team was measured 1.7x slower here (docs/serving.md).
  // Every size in run_sizes_ runs once: the engine compiles a plan per batch
  // size and keeps the memory of its run for reuse, so no client waits for a
  // compilation and the server's memory is at its steady state from the
  // start (docs/serving.md, "Memory").
  const auto& sig = classifier_.signature();
  const auto image = static_cast<std::size_t>(3 * sig.height * sig.width);
  for (const auto rows : run_sizes_) (void)run(std::vector<float>(image * static_cast<std::size_t>(rows)), rows);
  ready_ = true;
}

json ServedModel::metadata() const {
  const auto& sig = classifier_.signature();
  const auto classes = static_cast<std::int64_t>(classifier_.labels().size());
  const std::int64_t batch = sig.fixed_batch > 0 ? sig.fixed_batch : -1;
  json inputs =
      json::array({{{"name", sig.input_name}, {"datatype", "FP32"}, {"shape", {batch, 3, sig.height, sig.width}}}});
  json outputs = json::array({
      {{"name", sig.output_name}, {"datatype", "FP32"}, {"shape", {batch, classes}}},
      {{"name", kProbabilitiesOutput}, {"datatype", "FP32"}, {"shape", {batch, classes}}},
      {{"name", kLabelsOutput}, {"datatype", "BYTES"}, {"shape", {classes}}},
  });
  return {{"name", spec_.name},
          {"versions", {version()}},
          {"platform", "pt2onnx"},
          {"inputs", inputs},
          {"outputs", outputs}};
}

json ServedModel::card() const {
  namespace keys = metadata_keys;
  const auto& m = classifier_.metadata();
  const auto& sig = classifier_.signature();
  return {
      {"name", spec_.name},
      {"version", version()},
      {"file", spec_.path.filename().string()},
      {"labels", classifier_.labels()},
      {"activation", activation_name(classifier_.activation())},
      {"input", {{"name", sig.input_name}, {"height", sig.height}, {"width", sig.width}}},
      {"output", sig.output_name},
      {"architecture", metadata_or(m, keys::kArch)},
      {"checkpoint_file", metadata_or(m, keys::kCheckpointFile)},
      {"checkpoint_sha256", metadata_or(m, keys::kCheckpointSha256)},
      {"opset", opset_},
      {"producer", producer_},
      {"preprocess",
       {{"resize", metadata_or(m, keys::kResize)},
        {"crop", metadata_or(m, keys::kCrop)},
        {"interpolation", metadata_or(m, keys::kInterpolation)},
        {"mean", metadata_or(m, keys::kMean)},
        {"std", metadata_or(m, keys::kStd)},
        {"color", metadata_or(m, keys::kColor)}}},
      {"max_batch", batcher_->options().max_batch},
  };
}

// The engine compiles a plan, and keeps its memory, per batch size. A batch
// of a size it was not warmed up with runs as pieces that were, largest
// first (7 images as 4, 2 and 1): the server's plans and memory are then set
// at start and do not grow with the mix of sizes its clients send, a
// 192-image request included.
Rows ServedModel::run_engine(const pt2onnx::Tensor& batch) {
  const auto rows = batch.dim(0);
  if (std::find(run_sizes_.begin(), run_sizes_.end(), rows) != run_sizes_.end() ||
      classifier_.signature().fixed_batch > 0) {
    return classifier_.run(batch);
  }
  const auto row_bytes = static_cast<std::ptrdiff_t>(batch.nbytes() / static_cast<std::size_t>(rows));
  Rows out;
  out.reserve(static_cast<std::size_t>(rows));
  for (std::int64_t start = 0; start < rows;) {
    const auto piece =
        *std::find_if(run_sizes_.rbegin(), run_sizes_.rend(), [&](std::int64_t size) { return size <= rows - start; });
    Shape shape = batch.shape();
    shape[0] = piece;
    const auto first = batch.bytes().begin() + start * row_bytes;
    auto part = classifier_.run(
        pt2onnx::Tensor(batch.dtype(), shape, std::vector<std::byte>(first, first + piece * row_bytes)));
    std::move(part.begin(), part.end(), std::back_inserter(out));
    start += piece;
  }
  return out;
}

Rows ServedModel::run(std::vector<float> data, std::int64_t rows, const ClientGone& gone) {
  return batcher_->infer(std::move(data), rows, options_.timeout, gone);
}

std::vector<Tensor> ServedModel::infer(const InferRequest& request, const ClientGone& gone) {
  const auto& sig = classifier_.signature();
  if (request.inputs.size() != 1) {
    refuse(fmt::format("model '{}' takes one input, '{}'; the request has {}", spec_.name, sig.input_name,
                       request.inputs.size()));
  }
  const auto& input = request.inputs.front();
  if (input.name != sig.input_name) {
    refuse(fmt::format("model '{}' has no input '{}'; its input is '{}'", spec_.name, input.name, sig.input_name));
  }
  const auto activation = requested_activation(request.parameters).value_or(classifier_.activation());
  std::vector<float> data;
  std::int64_t rows = 0;
  if (input.datatype == Datatype::Fp32) {
    const auto& s = input.shape;
    if (s.size() != 4 || s[0] < 1 || s[1] != 3 || s[2] != sig.height || s[3] != sig.width) {
      refuse(fmt::format("input '{}': shape {} does not fit the model's [-1, 3, {}, {}]", input.name, json(s).dump(),
                         sig.height, sig.width));
    }
    rows = s[0];
    data = input.fp32;
  } else {
    const auto& s = input.shape;
    if (s.empty() || s.size() > 2 || s[0] < 1 || (s.size() == 2 && s[1] != 1)) {
      refuse(fmt::format("input '{}': BYTES of shape {}; images go as shape [N] or [N, 1], one encoded file each",
                         input.name, json(s).dump()));
    }
    rows = s[0];
    data = preprocessed(
        classifier_, static_cast<std::size_t>(rows),
        [&](std::size_t i) {
          const auto& bytes = input.bytes[i];
          return std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
        },
        [&](std::size_t i) { return fmt::format("input '{}' element {}", input.name, i); });
  }
  // Requested outputs are checked before the engine runs.
  const std::vector<std::string> known{sig.output_name, kProbabilitiesOutput, kLabelsOutput};
  std::vector<std::string> wanted;
  for (const auto& r : request.outputs) {
    if (std::find(known.begin(), known.end(), r.name) == known.end()) {
      refuse(fmt::format("model '{}' has no output '{}'; its outputs are {}, {} and {}", spec_.name, r.name, known[0],
                         known[1], known[2]));
    }
    wanted.push_back(r.name);
  }
  if (wanted.empty()) wanted = known;

  const Rows logits = run(std::move(data), rows, gone);
  const auto classes = static_cast<std::int64_t>(logits.empty() ? 0 : logits.front().size());
  std::vector<Tensor> outputs;
  for (const auto& name : wanted) {
    Tensor t;
    t.name = name;
    if (name == kLabelsOutput) {
      t.datatype = Datatype::Bytes;
      t.shape = {static_cast<std::int64_t>(classifier_.labels().size())};
      t.bytes = classifier_.labels();
    } else {
      t.shape = {rows, classes};
      for (const auto& row : logits) {
        const auto values = name == kProbabilitiesOutput ? Classifier::scores(row, activation) : row;
        t.fp32.insert(t.fp32.end(), values.begin(), values.end());
      }
    }
    outputs.push_back(std::move(t));
  }
  return outputs;
}

std::vector<Classification> ServedModel::classify(const std::vector<std::span<const std::uint8_t>>& images,
                                                  std::optional<ScoreActivation> activation, const ClientGone& gone) {
  auto data = preprocessed(
      classifier_, images.size(), [&](std::size_t i) { return images[i]; },
      [&](std::size_t i) { return images.size() == 1 ? std::string("image") : fmt::format("image {}", i); });
  Rows logits = run(std::move(data), static_cast<std::int64_t>(images.size()), gone);
  std::vector<Classification> out;
  for (auto& row : logits) {
    Classification c;
    c.scores = Classifier::scores(row, activation.value_or(classifier_.activation()));
    c.logits = std::move(row);
    out.push_back(std::move(c));
  }
  return out;
}

Service::Service(const std::vector<ModelSpec>& models, ServeOptions options) : options_(std::move(options)) {
  for (const auto& spec : models) {
    if (find(spec.name) != nullptr) {
      throw_error(ErrorKind::Usage, fmt::format("two models are named '{}'; name one as NAME=PATH", spec.name));
    }
    models_.push_back(std::make_unique<ServedModel>(spec, options_, metrics_));
    models_.back()->warm_up();
  }
  keeper_ = std::thread([this] { keep_memory(); });
}

Service::~Service() { stop_keeper(); }

void Service::keep_memory() {
  constexpr auto kQuiet = std::chrono::seconds(1);
  // The first quiet second also gives back what loading and warm-up left.
  std::uint64_t seen = answered_, trimmed = std::numeric_limits<std::uint64_t>::max();
  std::unique_lock lock(keeper_mutex_);
  while (!keeper_wake_.wait_for(lock, kQuiet, [this] { return keeper_stopping_; })) {
    const std::uint64_t now = answered_;
    if (now == seen && now != trimmed && metrics_.in_flight() == 0) {
      ::malloc_trim(0);
      trimmed = now;
    }
    seen = now;
  }
}

void Service::stop_keeper() {
  {
    std::lock_guard lock(keeper_mutex_);
    keeper_stopping_ = true;
  }
  keeper_wake_.notify_all();
  if (keeper_.joinable()) keeper_.join();
}

ServedModel* Service::find(const std::string& name, const std::string& version) {
  if (!version.empty() && version != ServedModel::version()) return nullptr;
  for (auto& m : models_) {
    if (m->name() == name) return m.get();
  }
  return nullptr;
}

ServedModel& Service::get(const std::string& name, const std::string& version) {
  if (ServedModel* m = find(name, version)) return *m;
  std::string names;
  for (const auto& m : models_) names += (names.empty() ? "" : ", ") + m->name();
  if (find(name) != nullptr) {
    throw NotFound(
        fmt::format("model '{}' has no version '{}'; it has version {}", name, version, ServedModel::version()));
  }
  throw NotFound(fmt::format("no model named '{}'; this server has {}", name, names));
}

json Service::server_metadata() const {
  return {{"name", "pt2onnx"}, {"version", PT2ONNX_VERSION}, {"extensions", {"binary_tensor_data"}}};
}

void Service::count(const std::string& model, const std::string& endpoint, bool failed, double seconds) {
  metrics_.request(find(model) != nullptr ? model : "", endpoint, failed, seconds);
  ++answered_;
}

std::string Service::prometheus() const {
  std::string out = metrics_.prometheus();
  const auto gauge = [&](const char* name, const char* help, auto value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
    // Model names are letters, digits, '-', '_' and '.' (parse_model_spec): nothing to escape.
    for (const auto& m : models_) out += fmt::format("{}{{model=\"{}\"}} {}\n", name, m->name(), value(*m));
  };
  gauge("pt2onnx_queued_images", "Images waiting for the engine.",
        [](const ServedModel& m) { return m.queued_images(); });
  gauge("pt2onnx_running_images", "Images in the engine run now.",
        [](const ServedModel& m) { return m.running_images(); });
  return out;
}

bool Service::ready() const {
  if (stopping_) return false;
  return std::all_of(models_.begin(), models_.end(), [](const auto& m) { return m->ready(); });
}

void Service::stop() {
  stopping_ = true;
  for (auto& m : models_) m->stop();
  stop_keeper();
}

}  // namespace pt2onnx::serve
